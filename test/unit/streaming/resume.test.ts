/**
 * SIGKILL mid-stream: the pipeline process is killed while the detector still writes; the
 * reopened sets have every item committed before the kill and say they are open (`concert set
 * info` too); the restarted pipeline resumes and adds no duplicate.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { OutputSet } from '../../../streaming/index.js';
import { within } from '../../support/async.js';
import { requireTool } from '../../support/tools.js';
import { concert as concertIn } from '../session/support.js';
import { sqlite3, startDetector, stopProcess, until, useTempDir } from './helpers.js';

const PIPELINE = fileURLToPath(new URL('./fixtures/pipeline-run.ts', import.meta.url));

function startPipeline(dir: string, sets: string): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', PIPELINE, dir, sets, '1500'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
}

describe('streaming: SIGKILL mid-stream and resume', function () {
  this.timeout(120_000);
  const children: ChildProcess[] = [];
  afterEach(() => Promise.all(children.splice(0).map(stopProcess))); // before the temporary directory goes
  const tmp = useTempDir();
  const concert = (args: string[]) => concertIn(tmp.path, args, { timeoutMs: 20_000 });

  it('reopens the sets with every committed item, open, and resumes without duplicates', async function () {
    requireTool(this, 'sqlite3', 'sqlite3');
    const dir = join(tmp.path, 'detector');
    const sets = join(tmp.path, 'sets');
    const read = join(sets, 'read.sqlite');
    const mean = join(sets, 'mean.sqlite');
    const detector = await startDetector(dir, ['--rate', '200', '--count', '600', '--mode', 'rename']);
    children.push(detector);
    const first = startPipeline(dir, sets);
    children.push(first);
    const count = (file: string) => {
      try {
        return Number(sqlite3(file, 'SELECT count(*) FROM items')[0]![0]);
      } catch {
        return 0; // not created yet
      }
    };
    await until(() => count(mean) >= 150, 60_000, 'the mean set reaching 150 items', 20);
    first.kill('SIGKILL');
    await new Promise((resolve) => first.once('exit', resolve));

    // What was committed before the kill, as another process sees it.
    const committed = (file: string) => sqlite3(file, 'SELECT idx, input_key, status FROM items ORDER BY idx');
    const readBefore = committed(read);
    const meanBefore = committed(mean);
    assert.ok(readBefore.length >= meanBefore.length && readBefore.length < 600, `read ${readBefore.length}`);
    assert.deepEqual(sqlite3(read, 'SELECT state FROM summary'), [['open']]);

    const info = concert(['set', 'info', read]);
    assert.equal(info.status, 0, info.stderr);
    assert.match(info.stdout, new RegExp(`items:  ${readBefore.length} \\(${readBefore.length} done, 0 failed\\)`));
    assert.match(
      info.stdout,
      /state:  open, but its writer \(process \d+\) is gone: it crashed or was killed; start the step again to resume/,
    );
    const json = JSON.parse(concert(['set', 'info', '--json', mean]).stdout) as {
      state: string;
      items: number;
      writer: { running: boolean };
    };
    assert.deepEqual([json.state, json.items, json.writer.running], ['open', meanBefore.length, false]);

    const reopened = await OutputSet.open(read, { follow: false });
    assert.equal(reopened.state, 'open');
    assert.deepEqual(
      reopened.items.map((i) => [String(i.index), i.inputKey, i.status]),
      readBefore,
    );

    // Resume while the detector is still writing (or has finished): the restarted pipeline runs until idle.
    const second = startPipeline(dir, sets);
    children.push(second);
    const [code] = await within(
      90_000,
      new Promise<[number | null]>((resolve) => second.once('exit', (c) => resolve([c]))),
      'the resumed pipeline',
    );
    assert.equal(code, 0);
    await new Promise((resolve) => (detector.exitCode === null ? detector.once('exit', resolve) : resolve(null)));

    const files = readdirSync(dir).filter((n) => n.endsWith('.tif'));
    assert.equal(files.length, 600);
    const readAfter = committed(read);
    assert.deepEqual(readAfter.slice(0, readBefore.length), readBefore, 'the committed items are unchanged');
    assert.equal(readAfter.length, 600, 'every file once');
    assert.deepEqual(readAfter.map((r) => r[1]).sort(), files.sort(), 'no file twice, none missing');
    const meanAfter = committed(mean);
    assert.deepEqual(meanAfter.slice(0, meanBefore.length), meanBefore);
    assert.equal(meanAfter.length, 600);
    assert.equal(new Set(meanAfter.map((r) => r[1])).size, 600, 'no duplicate in the chained set');
    const frames = sqlite3(mean, "SELECT json_extract(record, '$.frameNumber') FROM items").map((r) => Number(r[0]));
    assert.deepEqual(
      frames.sort((a, b) => a - b),
      Array.from({ length: 600 }, (_, i) => i),
    );
    assert.deepEqual(sqlite3(mean, 'SELECT state, items, failed, close_reason FROM summary'), [
      ['closed', '600', '0', 'input-closed'],
    ]);
    assert.match(concert(['set', 'info', read]).stdout, /state:  closed \(idle: no new item for 1500 ms\)/);
  });
});
