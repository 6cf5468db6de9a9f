import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFile, stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { makeFrame, type Frame } from '../../../core/index.js';
import { LogReader, LogWriter, summarizeLog, type LogRecord } from '../../../recording/index.js';
import { StorageError } from '../../../walkers/formats/index.js';
import { rejectsWith } from '../../support/async.js';
import { useTempDir } from '../walkers/formats/helpers.js';

const source = { kind: 'zmq' as const, description: 'tcp://127.0.0.1:1 (pull)' };

function frame(i: number, dtype: 'uint16' | 'float32' | 'uint8' = 'uint16', width = 5, height = 3): Frame {
  const n = width * height;
  const data =
    dtype === 'uint16'
      ? Uint16Array.from({ length: n }, (_, k) => i * 100 + k)
      : dtype === 'uint8'
        ? Uint8Array.from({ length: n }, (_, k) => (i + k) % 256)
        : Float32Array.from({ length: n }, (_, k) => i + k / 7);
  return makeFrame(data, [height, width], { frameNumber: i, timestamp: 1_700_000_000_000 + i, angle: i * 0.25 });
}

async function readAll(path: string): Promise<{ records: LogRecord[]; reader: LogReader }> {
  const reader = await LogReader.open(path);
  const records: LogRecord[] = [];
  for await (const r of reader.records()) records.push(r);
  await reader.close();
  return { records, reader };
}

describe('recording/log format', function () {
  this.timeout(60_000);
  const dir = useTempDir();

  it('round-trips frames of every kind, end markers and websocket messages, bit for bit, with their receive times', async () => {
    const path = join(dir.path, 'a.clog');
    const log = await LogWriter.create(path, { source, startTime: 1_700_000_000_000 });
    const frames = [frame(0), frame(1, 'float32', 7, 2), frame(2, 'uint8', 1, 1), frame(3, 'uint16', 1, 3)];
    await assert.rejects(
      log.writeFrame(makeFrame(new Uint16Array(0), [0, 0])),
      /a frame of shape \[0, 0\] cannot be recorded/,
    );
    for (const [i, f] of frames.entries()) await log.writeFrame(f, 1000 + i);
    await log.writeEnd({ acquisition: 'radios' }, 2000);
    await log.writeMessage('{"state":"moving"}', 2001);
    await log.writeMessage(new Uint8Array([0, 1, 254, 255]), 2002);
    const counters = await log.close();
    assert.deepEqual([counters.records, counters.frames], [7, 4]);
    assert.equal(counters.bytes, (await stat(path)).size);
    const { records, reader } = await readAll(path);
    assert.equal(reader.header.startTime, 1_700_000_000_000);
    assert.deepEqual(reader.header.source, source);
    assert.deepEqual(reader.ending, {
      complete: true,
      trailer: { records: 7, frames: 4, stoppedAt: reader.ending!.trailer!.stoppedAt },
    });
    assert.deepEqual(
      records.map((r) => [r.kind, r.receivedAt]),
      [
        ['frame', 1000],
        ['frame', 1001],
        ['frame', 1002],
        ['frame', 1003],
        ['end', 2000],
        ['text', 2001],
        ['binary', 2002],
      ],
    );
    for (const [i, f] of frames.entries()) {
      const r = records[i]!;
      assert.ok(r.kind === 'frame');
      assert.equal(r.frame.dtype, f.dtype);
      assert.deepEqual(r.frame.shape, f.shape);
      assert.deepEqual(
        Buffer.from(r.frame.data.buffer, r.frame.data.byteOffset, r.frame.data.byteLength),
        Buffer.from(f.data.buffer, f.data.byteOffset, f.data.byteLength),
      );
      assert.equal(r.frame.data.byteOffset % 8, 0, 'pixels aligned (no copy on decode)');
      assert.deepEqual(r.frame.metadata, f.metadata);
    }
    assert.deepEqual((records[4] as { header: object }).header, { acquisition: 'radios', end: true });
    assert.equal((records[5] as { text: string }).text, '{"state":"moving"}');
    assert.deepEqual([...(records[6] as { data: Uint8Array }).data], [0, 1, 254, 255]);
    const summary = await summarizeLog(path);
    assert.deepEqual(
      [summary.records, summary.frames, summary.ends, summary.texts, summary.binaries, summary.ending.complete],
      [7, 4, 1, 1, 1, true],
    );
    assert.deepEqual(summary.formats, ['5x3 uint16', '7x2 float32', '1x1 uint8', '1x3 uint16']);
    assert.equal(summary.fps, 3 / 0.003);
  });

  it('a log cut at every byte offset inside its last three records reads up to the last whole record', async () => {
    const path = join(dir.path, 'full.clog');
    const log = await LogWriter.create(path, { source });
    const offsets: number[] = [];
    for (let i = 0; i < 5; i++) {
      offsets.push(log.counters.bytes);
      await log.writeFrame(frame(i), 100 + i);
    }
    offsets.push(log.counters.bytes);
    await log.close(); // + the trailer: the last three records are frames 3, 4 and the trailer
    const full = await readFile(path);
    offsets.push(full.length);
    const cut = join(dir.path, 'cut.clog');
    let checked = 0;
    for (let at = offsets[3]!; at < full.length; at++) {
      await writeFile(cut, full.subarray(0, at));
      const whole = offsets.filter((o, k) => k > 0 && k <= 5 && o <= at).length;
      const { records, reader } = await readAll(cut);
      assert.equal(records.length, whole, `cut at ${at}`);
      assert.deepEqual(
        records.map((r) => (r.kind === 'frame' ? r.frame.data[0] : -1)),
        [0, 100, 200, 300, 400].slice(0, whole),
      );
      assert.equal(reader.ending!.complete, false);
      assert.equal(reader.ending!.cutShort!.offset, offsets[whole], `cut at ${at}: stops before the cut record`);
      const indexed = await LogReader.open(cut);
      const index = await indexed.index();
      await indexed.close();
      assert.equal(index.frames.length, whole);
      assert.equal(index.ending.cutShort!.offset, offsets[whole]);
      checked++;
    }
    assert.ok(checked > 100, `${checked} offsets checked`);
  });

  it('zero-filled space after the last record (a power loss) also reads as a clean end', async () => {
    const path = join(dir.path, 'zeros.clog');
    const log = await LogWriter.create(path, { source });
    await log.writeFrame(frame(0));
    const end = log.counters.bytes;
    await log.close();
    await truncate(path, end);
    await truncate(path, end + 4096);
    const { records, reader } = await readAll(path);
    assert.equal(records.length, 1);
    assert.match(reader.ending!.cutShort!.reason, /record length of 0 bytes/);
    assert.equal((await summarizeLog(path)).ending.cutShort!.offset, end);
  });

  it('refuses what is not a recording, a newer version, and an existing file', async () => {
    const other = join(dir.path, 'x.clog');
    await writeFile(other, 'hello, not a log at all');
    await rejectsWith(LogReader.open(other), StorageError, /not a Concert recording/);
    const path = join(dir.path, 'v.clog');
    await (await LogWriter.create(path, { source })).close();
    const bytes = await readFile(path);
    bytes.writeUInt16LE(9, 8);
    await writeFile(path, bytes);
    await rejectsWith(LogReader.open(path), StorageError, /format version 9, this Concert reads versions 1 to 1/);
    await rejectsWith(
      LogWriter.create(path, { source }),
      StorageError,
      /the file exists; choose another name or remove it/,
    );
    await (await LogWriter.create(path, { source, overwrite: true })).close();
    await rejectsWith(LogReader.open(join(dir.path, 'none.clog')), StorageError, /ENOENT/);
  });

  it('a full disk stops the writer with a StorageError and the file stays readable up to its last whole record', async function () {
    this.timeout(90_000); // a child process loads tsx
    // RLIMIT_FSIZE stands in for a full disk: with SIGXFSZ ignored, write() fails with EFBIG.
    const script = join(dir.path, 'full.mts');
    const module = (p: string) => JSON.stringify(new URL(p, import.meta.url).pathname);
    await writeFile(
      script,
      `import { LogWriter } from ${module('../../../recording/index.ts')};
       import { makeFrame } from ${module('../../../core/frame.ts')};
       const log = await LogWriter.create(process.argv[2] + '/full.clog', { source: { kind: 'zmq', description: 'x' } });
       let written = 0;
       try { for (;;) { await log.writeFrame(makeFrame(new Uint16Array(100 * 1024).fill(written), [320, 320])); written++; } }
       catch (e) { console.log(JSON.stringify({ written, name: e.name, code: e.code, message: e.message })); }
       try { await log.writeFrame(makeFrame(new Uint8Array(4), [2, 2])); } catch (e) { console.log(JSON.stringify({ again: e.code })); }
       try { await log.close(); } catch (e) { console.log(JSON.stringify({ close: e.code })); }`,
    );
    const tsx = new URL('../../../node_modules/.bin/tsx', import.meta.url).pathname;
    const output = await new Promise<string>((resolve, reject) => {
      const child = spawn('bash', ['-c', `trap '' XFSZ; ulimit -f 2048; exec "${tsx}" "${script}" "${dir.path}"`]);
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (out += d.toString()));
      child.on('error', reject);
      child.on('close', () => resolve(out));
    });
    const lines = output.split('\n').filter((l) => l.startsWith('{'));
    if (lines.length === 0) {
      console.log(`      skipped: could not limit the file size here: ${output.trim().slice(0, 200)}`);
      this.skip();
    }
    const error = JSON.parse(lines[0]!) as { written: number; name: string; code: string; message: string };
    assert.equal(error.name, 'StorageError');
    assert.equal(error.code, 'EFBIG');
    assert.match(error.message, /^cannot write .*full\.clog: EFBIG/);
    assert.deepEqual(JSON.parse(lines[1]!), { again: 'EFBIG' }, 'later writes fail the same way');
    const { records, reader } = await readAll(join(dir.path, 'full.clog'));
    assert.equal(records.length, error.written);
    assert.ok(error.written >= 9, `${error.written} frames fit in 2 MiB`);
    assert.equal(reader.ending!.complete, false);
    assert.match(reader.ending!.cutShort!.reason, /without a trailer/, 'cut back to the last whole record');
  });
});
