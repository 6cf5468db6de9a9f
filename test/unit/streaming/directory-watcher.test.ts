import assert from 'node:assert/strict';
import { mkdirSync, openSync, closeSync, renameSync, rmSync, utimesSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { DirectoryWatcher, type WatchedFile } from '../../../streaming/directory-watcher.js';
import { StreamingError } from '../../../streaming/errors.js';
import { OptionError } from '../../../core/errors.js';
import { TiffWriter } from '../../../walkers/formats/index.js';
import { Acquisition, frameConsumer } from '../../../experiments/index.js';
import { delay, rejectsWith, since, within } from '../../support/async.js';
import { flatFrame, useTempDir } from './helpers.js';

/** Takes files from the watcher into `got` until aborted. */
function collect(watcher: DirectoryWatcher): { got: WatchedFile[]; stop(): Promise<void> } {
  const controller = new AbortController();
  const got: WatchedFile[] = [];
  const done = (async () => {
    for await (const file of watcher.files(controller.signal)) got.push(file);
  })();
  return {
    got,
    stop: async () => {
      controller.abort();
      await within(10_000, done, 'the watcher ending');
    },
  };
}

async function waitFor(got: unknown[], n: number, ms = 20_000): Promise<void> {
  const t0 = performance.now();
  while (got.length < n) {
    if (since(t0) > ms) throw new Error(`got ${got.length} of ${n} files within ${ms} ms`);
    await delay(5);
  }
}

describe('streaming/directory-watcher', function () {
  this.timeout(60_000);
  const tmp = useTempDir();

  it('yields new matching files once, in the order they land, within milliseconds (fileTimeoutMs 0)', async () => {
    writeFileSync(join(tmp.path, 'old.tif'), 'x');
    const watcher = await DirectoryWatcher.create({ directory: tmp.path, pattern: '*.tif', fileTimeoutMs: 0 });
    const c = collect(watcher);
    await delay(50);
    const t0 = performance.now();
    writeFileSync(join(tmp.path, 'a.tif'), 'aa');
    writeFileSync(join(tmp.path, 'notes.txt'), 'no');
    await waitFor(c.got, 1);
    const latency = since(t0);
    writeFileSync(join(tmp.path, 'b.tif'), 'bbb');
    await waitFor(c.got, 2);
    writeFileSync(join(tmp.path, 'a.tif'), 'again'); // already taken: not again
    await delay(100);
    await c.stop();
    assert.deepEqual(
      c.got.map((f) => [f.name, f.size]),
      [
        ['a.tif', 2],
        ['b.tif', 3],
      ],
    );
    assert.equal(c.got[0]!.path, join(tmp.path, 'a.tif'));
    assert.ok(latency < 500, `took ${latency.toFixed(0)} ms`);
  });

  it('takes poll and file-timeout periods past 24.8 days without overflowing into a 1 ms busy loop', async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.name);
    process.on('warning', onWarning);
    try {
      const long = 2 ** 32; // setTimeout would fire after 1 ms and warn TimeoutOverflowWarning
      const watcher = await DirectoryWatcher.create({
        directory: tmp.path,
        pattern: '*.tif',
        pollMs: long,
        fileTimeoutMs: long,
      });
      const c = collect(watcher);
      writeFileSync(join(tmp.path, 'slow.tif'), 'x');
      await delay(200);
      await c.stop();
      assert.deepEqual(c.got, [], 'a file is not taken before its (long) timeout');
      await delay(10); // warnings are emitted on the next tick
      assert.deepEqual(
        warnings.filter((w) => w === 'TimeoutOverflowWarning'),
        [],
      );
    } finally {
      process.off('warning', onWarning);
    }
  });

  /** A watcher of frame_*.tif that takes the files already there, each as soon as it is seen. */
  const watchExisting = () =>
    DirectoryWatcher.create({ directory: tmp.path, pattern: 'frame_*.tif', existing: true, fileTimeoutMs: 0 });

  it('takes many files already there in natural name order, whatever order their stats complete in', async () => {
    const n = 300;
    const numbers = Array.from({ length: n }, (_, i) => i + 1).sort((a, b) => ((a * 7919) % n) - ((b * 7919) % n));
    for (const k of numbers) writeFileSync(join(tmp.path, `frame_${k}.tif`), 'x'.repeat(k));
    const c = collect(await watchExisting());
    await waitFor(c.got, n);
    await c.stop();
    assert.deepEqual(
      c.got.map((f) => f.name),
      Array.from({ length: n }, (_, i) => `frame_${i + 1}.tif`),
    );
  });

  it('takes the files already there first, in natural name order, when asked', async () => {
    for (const n of [10, 2, 1]) writeFileSync(join(tmp.path, `frame_${n}.tif`), 'x');
    const c = collect(await watchExisting());
    await waitFor(c.got, 3);
    writeFileSync(join(tmp.path, 'frame_11.tif'), 'x');
    await waitFor(c.got, 4);
    await c.stop();
    assert.deepEqual(
      c.got.map((f) => f.name),
      ['frame_1.tif', 'frame_2.tif', 'frame_10.tif', 'frame_11.tif'],
    );
  });

  it('waits until a growing file has not changed for the file timeout', async () => {
    const watcher = await DirectoryWatcher.create({ directory: tmp.path, fileTimeoutMs: 300 });
    const c = collect(watcher);
    await delay(30);
    const path = join(tmp.path, 'big.raw');
    const fd = openSync(path, 'w');
    const t0 = performance.now();
    let written = 0;
    for (let i = 0; i < 4; i++) {
      if (i > 0) await delay(100);
      writeSync(fd, Buffer.alloc(1000, i));
      written = since(t0);
    }
    closeSync(fd);
    await waitFor(c.got, 1);
    const taken = since(t0);
    await c.stop();
    assert.equal(c.got[0]!.size, 4000, 'taken complete, not while growing');
    assert.ok(
      taken >= written + 250,
      `taken ${taken.toFixed(0)} ms after the first write, last write at ${written.toFixed(0)} ms`,
    );
  });

  it('takes an old file at once: its modification time shows it stopped growing long ago', async () => {
    const path = join(tmp.path, 'old.raw');
    writeFileSync(path, 'x');
    const past = new Date(Date.now() - 60_000);
    utimesSync(path, past, past);
    const watcher = await DirectoryWatcher.create({ directory: tmp.path, existing: true, fileTimeoutMs: 5000 });
    const c = collect(watcher);
    await waitFor(c.got, 1, 1000);
    await c.stop();
  });

  it('sees a complete file renamed into place (as TiffWriter does), and never its .partial', async () => {
    const watcher = await DirectoryWatcher.create({ directory: tmp.path, pattern: '*.tif', fileTimeoutMs: 0 });
    const c = collect(watcher);
    await delay(30);
    await TiffWriter.writeFile(join(tmp.path, 'frame.tif'), flatFrame(7));
    await waitFor(c.got, 1);
    await c.stop();
    assert.deepEqual(
      c.got.map((f) => f.name),
      ['frame.tif'],
    );
  });

  it('forgets a file deleted before it was complete, and takes a new file of that name', async () => {
    const watcher = await DirectoryWatcher.create({ directory: tmp.path, fileTimeoutMs: 200 });
    const c = collect(watcher);
    await delay(30);
    writeFileSync(join(tmp.path, 'x.raw'), 'first');
    await delay(50);
    rmSync(join(tmp.path, 'x.raw'));
    await delay(300);
    assert.equal(c.got.length, 0);
    writeFileSync(join(tmp.path, 'x.raw'), 'second!');
    await waitFor(c.got, 1);
    await c.stop();
    assert.equal(c.got[0]!.size, 7);
  });

  it('ignores directories, and files matching only outside the pattern', async () => {
    const watcher = await DirectoryWatcher.create({ directory: tmp.path, pattern: '*.{tif,tiff}', fileTimeoutMs: 0 });
    const c = collect(watcher);
    await delay(30);
    mkdirSync(join(tmp.path, 'sub.tif'));
    writeFileSync(join(tmp.path, 'a.tiff'), 'x');
    writeFileSync(join(tmp.path, 'a.tif.tmp'), 'x');
    renameSync(join(tmp.path, 'a.tif.tmp'), join(tmp.path, 'b.tif'));
    await waitFor(c.got, 2);
    await delay(100);
    await c.stop();
    assert.deepEqual(c.got.map((f) => f.name).sort(), ['a.tiff', 'b.tif']);
  });

  it('stops promptly when aborted while waiting', async () => {
    const watcher = await DirectoryWatcher.create({ directory: tmp.path });
    const c = collect(watcher);
    await delay(20);
    const t0 = performance.now();
    await c.stop();
    assert.ok(since(t0) < 200);
  });

  it('rejects a missing directory, a file, and bad options', async () => {
    await rejectsWith(
      DirectoryWatcher.create({ directory: join(tmp.path, 'nope') }),
      StreamingError,
      /DirectoryWatcher: cannot watch .*nope: ENOENT/,
    );
    writeFileSync(join(tmp.path, 'f'), '');
    await rejectsWith(
      DirectoryWatcher.create({ directory: join(tmp.path, 'f') }),
      StreamingError,
      /is not a directory/,
    );
    await rejectsWith(
      DirectoryWatcher.create({ directory: tmp.path, fileTimeout: 3 } as never),
      OptionError,
      "DirectoryWatcher.create: unknown option 'fileTimeout', did you mean 'fileTimeoutMs'? (allowed: directory, " +
        'existing, fileTimeoutMs, pattern, pollMs)',
    );
    await rejectsWith(
      DirectoryWatcher.create({ directory: tmp.path, fileTimeoutMs: -1 }),
      OptionError,
      "DirectoryWatcher.create: option 'fileTimeoutMs' must be a finite number in [0, Infinity], got -1",
    );
    await rejectsWith(DirectoryWatcher.create({} as never), OptionError, /option 'directory' is required/);
  });

  it('yields the frames of the TIFF files for an acquisition, numbered across files', async () => {
    const watcher = await DirectoryWatcher.create({
      directory: tmp.path,
      pattern: '*.tif',
      existing: true,
      fileTimeoutMs: 0,
    });
    await TiffWriter.writeFile(join(tmp.path, 'a.tif'), flatFrame(1));
    const multi = await TiffWriter.open(join(tmp.path, 'b.tif'));
    await multi.write(flatFrame(2));
    await multi.write(flatFrame(3));
    await multi.close();
    const controller = new AbortController();
    const frames: { value: number; frameNumber: number; file: unknown; page: unknown }[] = [];
    for await (const frame of watcher.frames()(controller.signal)) {
      frames.push({
        value: frame.data[0]!,
        frameNumber: frame.metadata.frameNumber,
        file: frame.metadata.file,
        page: frame.metadata.page,
      });
      if (frames.length === 3) controller.abort();
    }
    assert.deepEqual(frames, [
      { value: 1, frameNumber: 0, file: 'a.tif', page: 0 },
      { value: 2, frameNumber: 1, file: 'b.tif', page: 0 },
      { value: 3, frameNumber: 2, file: 'b.tif', page: 1 },
    ]);
  });

  it('frames({ count }) ends an acquisition after count frames, in the middle of a file too', async () => {
    const watcher = await DirectoryWatcher.create({
      directory: tmp.path,
      pattern: '*.tif',
      existing: true,
      fileTimeoutMs: 0,
    });
    await TiffWriter.writeFile(join(tmp.path, 'a.tif'), flatFrame(1));
    const multi = await TiffWriter.open(join(tmp.path, 'b.tif'));
    await multi.write(flatFrame(2));
    await multi.write(flatFrame(3));
    await multi.close();
    const radios = await Acquisition.create('radios', watcher.frames({ count: 2 }));
    const values: number[] = [];
    radios.attach(
      frameConsumer('values', async (frames) => {
        for await (const f of frames) values.push(f.data[0]!);
      }),
    );
    const result = await within(5000, radios.run());
    assert.equal(result.frames, 2);
    assert.deepEqual(values, [1, 2]);
    assert.throws(() => watcher.frames({ count: 0 }), /DirectoryWatcher.frames: option 'count'/);
  });

  it('takes 10 000 existing files, each once, for a slow consumer', async function () {
    this.timeout(60_000);
    const n = 10_000;
    for (let i = 0; i < n; i++) writeFileSync(join(tmp.path, `f${i}.raw`), '');
    const watcher = await DirectoryWatcher.create({ directory: tmp.path, existing: true, fileTimeoutMs: 0 });
    const controller = new AbortController();
    const names = new Set<string>();
    let count = 0;
    for await (const file of watcher.files(controller.signal)) {
      names.add(file.name);
      // A slow consumer: the watcher must not stat ahead of it without bound.
      if (++count % 2500 === 0) await delay(20);
      if (count === n) controller.abort();
    }
    assert.equal(names.size, n);
  });
});
