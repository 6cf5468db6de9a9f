import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeFrame, sleep, type Frame } from '../../../../core/index.js';
import { Acquisition, Experiment } from '../../../../experiments/index.js';
import {
  Accumulator,
  Benchmarker,
  FunctionAddon,
  ImageWriter,
  LiveView,
  LogViewer,
} from '../../../../addons/local/index.js';
import { DirectoryWalker, readTiff } from '../../../../walkers/index.js';

function frames(n: number, periodMs = 0) {
  return async function* (signal: AbortSignal): AsyncGenerator<Frame> {
    for (let i = 0; i < n; i++) {
      if (periodMs) await sleep(periodMs, signal);
      yield makeFrame(new Uint16Array(12).fill(i), [3, 4], { frameNumber: i });
    }
  };
}

describe('addons/local', () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'concert-addons-'));
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('summaries show attached acquisitions, frames seen and dropped, and addon counters', async () => {
    const exp = await Experiment.create(
      [await Acquisition.create('darks', frames(3)), await Acquisition.create('radios', frames(5))],
      { walker: await DirectoryWalker.create({ root }) },
    );
    const writer = await ImageWriter.create(exp);
    const bench = await Benchmarker.create(exp, { acquisitions: ['radios'] });
    await exp.run();
    const s = writer.summary();
    assert.deepEqual(s.attached, ['darks', 'radios']);
    assert.equal(s.frames, 8);
    assert.equal(s.dropped, 0);
    assert.equal(s.framesWritten, 8);
    assert.equal(s.bytesWritten, 8 * 24);
    assert.deepEqual(bench.summary().attached, ['radios']);
    assert.equal(bench.getTiming('radios').frames, 5);
    assert.throws(() => bench.getDuration('darks'), /has not timed acquisition 'darks'/);
  });

  it('LiveView with a slow viewer counts drops and never holds the producer up', async () => {
    const lines: string[] = [];
    const viewer = new LogViewer({ intervalMs: 0, report: (l) => lines.push(l) });
    const slow = {
      show: async (f: Frame, info: { acquisition: string; dropped: number }) => {
        viewer.show(f, info);
        await sleep(25);
      },
    };
    const exp = await Experiment.create([await Acquisition.create('radios', frames(40, 2))]);
    const live = await LiveView.create(exp, { viewer: slow });
    const t = performance.now();
    await exp.run();
    assert.ok(performance.now() - t < 40 * 25, 'not paced by the viewer');
    const s = live.summary();
    assert.ok(s.dropped > 0, 'drops counted');
    assert.equal(s.frames + s.dropped, 40);
    assert.equal(viewer.last?.metadata.frameNumber, 39, 'the last frame shown is the newest');
    assert.match(lines.at(-1)!, /radios: frame \d+, [\d.]+ fps shown, \d+ dropped/);
  });

  it('a writer detached during a run closes complete files; later frames are not written', async () => {
    // The producer holds after 10 frames until the writer is detached, so the detach always comes
    // mid-run however slow the machine is.
    let release!: () => void;
    const detached = new Promise<void>((resolve) => (release = resolve));
    const radios = await Acquisition.create('radios', async function* () {
      for (let i = 0; i < 60; i++) {
        if (i === 10) await detached;
        yield makeFrame(new Uint16Array(12).fill(i), [3, 4], { frameNumber: i });
      }
    });
    const exp = await Experiment.create([radios], { walker: await DirectoryWalker.create({ root }) });
    const writer = await ImageWriter.create(exp);
    const run = exp.run();
    const dir = join(root, 'scan_0000', 'radios');
    const t0 = performance.now();
    while (!(await readdir(dir).catch(() => [])).some((f) => f.endsWith('.tif'))) {
      assert.ok(performance.now() - t0 < 20_000, 'the writer wrote a first file within 20 s');
      await sleep(5);
    }
    await writer.detach();
    const files = await readdir(dir);
    release();
    await run;
    assert.ok(files.length > 0 && files.length < 60);
    assert.ok(
      files.every((f) => f.endsWith('.tif')),
      'no partial file',
    );
    assert.deepEqual(
      (await readdir(join(root, 'scan_0000', 'radios'))).sort(),
      files.sort(),
      'nothing written after detach',
    );
    for (const f of files) assert.equal((await readTiff(join(root, 'scan_0000', 'radios', f))).length, 1);
    assert.equal(writer.attached, false);
    assert.equal(exp.addons.length, 0);
  });

  it('FunctionAddon runs a function on every frame, or on the whole stream; bad options are clear errors', async () => {
    const exp = await Experiment.create([await Acquisition.create('a', frames(4))]);
    const seen: number[] = [];
    await FunctionAddon.create(exp, { each: (f) => void seen.push(f.metadata.frameNumber) });
    let streamed = 0;
    await FunctionAddon.create(exp, {
      stream: async (fs) => {
        for await (const _ of fs) streamed++;
      },
    });
    await exp.run();
    assert.deepEqual(seen, [0, 1, 2, 3]);
    assert.equal(streamed, 4);
    await assert.rejects(FunctionAddon.create(exp, {}), /exactly one of/);
    await assert.rejects(FunctionAddon.create(exp, { each: 1 } as never), /option 'each' must be a function/);
    await assert.rejects(Accumulator.create(exp, { limit: 0 }), /option 'limit' must be an integer in \[1, Infinity\]/);
    await assert.rejects(LiveView.create(exp, { viewer: {} } as never), /must be a Viewer/);
  });

  it('ImageWriter without a walker is a clear error', async () => {
    const exp = await Experiment.create([await Acquisition.create('a', frames(1))]);
    await assert.rejects(ImageWriter.create(exp), /has no walker; pass \{ walker \}/);
  });

  it('Accumulator keeps at most limit frames per acquisition', async () => {
    const exp = await Experiment.create([await Acquisition.create('a', frames(10))]);
    const acc = await Accumulator.create(exp, { limit: 3 });
    await exp.run();
    assert.deepEqual(
      acc.getItems('a').map((f) => f.metadata.frameNumber),
      [7, 8, 9],
    );
  });

  it('Accumulator.getItems(name, count) gives the last count frames; a bad count is a clear error', async () => {
    const exp = await Experiment.create([await Acquisition.create('darks', frames(10))]);
    const acc = await Accumulator.create(exp);
    await exp.run();
    assert.deepEqual(
      acc.getItems('darks', 3).map((f) => f.metadata.frameNumber),
      [7, 8, 9],
    );
    assert.equal(acc.getItems('darks', 0).length, 0);
    assert.equal(acc.getItems('darks', 50).length, 10);
    assert.throws(() => acc.getItems('darks', -1), /getItems: count must be a whole number ≥ 0, got -1/);
  });
});
