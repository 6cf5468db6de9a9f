/** `concert set info|watch` as a subprocess, on sets this process writes (another process reads them). */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { OutputSet } from '../../../../streaming/output-set.js';
import { SetFile } from '../../../../streaming/set-file.js';
import { toRecord } from '../../../../streaming/item.js';
import { delay, within } from '../../../support/async.js';
import { useTempDir } from '../../streaming/helpers.js';
import { concert, concertAsync, concertBin } from '../support.js';

function writer(path: string): OutputSet<unknown> {
  return new OutputSet({
    name: 'flat',
    file: SetFile.openForWriting(path, { name: 'flat', step: 'flat', input: "set 'read'" }),
  });
}

function add(set: OutputSet<unknown>, key: string, value: unknown, error?: string): void {
  const { record, own } = toRecord(value);
  const t = Date.now();
  set.register({
    inputIndex: set.size,
    inputKey: key,
    status: error ? 'failed' : 'done',
    value,
    record,
    own,
    attempts: 1,
    receivedAt: t,
    startedAt: t,
    ...(error ? { error } : {}),
  });
}

describe('concert set', function () {
  this.timeout(30_000);
  const tmp = useTempDir();

  it('has help for set, set info and set watch', () => {
    assert.match(concert(tmp.path, ['--help']).stdout, /^\s+set\b/m);
    assert.match(concert(tmp.path, ['set', '--help']).stdout, /info \[options\] <file>[\s\S]*watch \[options\] <file>/);
    assert.match(concert(tmp.path, ['set', 'watch', '--help']).stdout, /--from <index>/);
  });

  it('info: items, failures, state with its writer, rate; --json', () => {
    const path = join(tmp.path, 'flat.sqlite');
    const set = writer(path);
    add(set, 'a.tif', 1);
    add(set, 'b.tif', 2);
    add(set, 'c.tif', undefined, 'bad pixels');
    set.flush(); // committed now: `concert` below blocks this process's event loop
    let r = concert(tmp.path, ['set', 'info', path]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^set 'flat' \(.*flat\.sqlite\)$/m);
    assert.match(r.stdout, /step: {3}flat, reading set 'read'/);
    assert.match(r.stdout, new RegExp(`state:  open \\(written by process ${process.pid}\\)`));
    assert.match(r.stdout, /items: {2}3 \(2 done, 1 failed\)/);
    assert.match(r.stdout, /rate: {3}[\d.]+ items\/s over the last 10 s/);
    set.close({ reason: 'count', at: Date.now(), message: 'count: 3 items' });
    r = concert(tmp.path, ['set', 'info', '--json', path]);
    const info = JSON.parse(r.stdout) as { state: string; items: number; failed: number; close: { reason: string } };
    assert.deepEqual([info.state, info.items, info.failed, info.close.reason], ['closed', 3, 1, 'count']);
  });

  it('info: a missing file or one that is not a set is a clear error', () => {
    let r = concert(tmp.path, ['set', 'info', join(tmp.path, 'none.sqlite')]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /Sorry, set file .*none\.sqlite does not exist/);
    writeFileSync(join(tmp.path, 'x.sqlite'), 'not sqlite');
    r = concert(tmp.path, ['set', 'info', join(tmp.path, 'x.sqlite')]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /Sorry, .*x\.sqlite is not a Concert set file: file is not a database/);
  });

  it('watch: prints the items as they land until the set closes', async () => {
    const path = join(tmp.path, 'flat.sqlite');
    const set = writer(path);
    for (let i = 0; i < 12; i++) add(set, `f${i}.tif`, i);
    const child = spawn(process.execPath, [concertBin, 'set', 'watch', path], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    // Items added once the watcher is watching: they reach it as they land.
    await within(
      20_000,
      (async () => {
        while (!stdout.includes('f11.tif')) await delay(20);
      })(),
      'set watch starting',
    );
    add(set, 'late.tif', 99);
    add(set, 'bad.tif', undefined, 'truncated file');
    await delay(300);
    set.close({ reason: 'idle', at: Date.now(), message: 'idle: no new item for 1000 ms' });
    const status = await within(20_000, exited, 'set watch ending');
    const r = { status, stdout, stderr };
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.match(lines[0]!, /^watching set 'flat' \(12 items; open \(written by process \d+\)\)$/);
    assert.equal(lines.filter((l) => /^\s+\d+ {2}f\d+\.tif {2}done/.test(l)).length, 10, 'the last 10 already there');
    assert.match(r.stdout, /^\s+12 {2}late\.tif {2}done {2}[\d.]+ ms$/m);
    assert.match(r.stdout, /^\s+13 {2}bad\.tif {2}FAILED: truncated file/m);
    assert.equal(lines.at(-1), 'closed: idle: no new item for 1000 ms');
  });

  it('watch --from 0 --json prints every item; exits 1 for a set whose step failed', async () => {
    const path = join(tmp.path, 'flat.sqlite');
    const set = writer(path);
    add(set, 'a.tif', 1);
    set.close({ reason: 'failed', at: Date.now(), message: 'item b.tif failed' }, new Error('item b.tif failed'));
    await set.closed.catch(() => undefined);
    const r = await concertAsync(tmp.path, ['set', 'watch', '--from', '0', '--json', path]);
    assert.equal(r.status, 1);
    const [item, end] = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.equal(item!.inputKey, 'a.tif');
    assert.deepEqual((end!.closed as { reason: string }).reason, 'failed');
  });
});
