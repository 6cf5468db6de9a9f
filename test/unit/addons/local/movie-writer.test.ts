import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { q, sleep, type Frame } from '../../../../core/index.js';
import { Acquisition, Experiment } from '../../../../experiments/index.js';
import { MovieWriter } from '../../../../addons/local/index.js';
import { DirectoryWalker } from '../../../../walkers/index.js';
import { debianFfmpeg, probe, rampFrame } from '../../video/helpers.js';
import { rejectsWith } from '../../../support/async.js';

function producer(n: number, periodMs = 0) {
  return async function* (signal: AbortSignal): AsyncGenerator<Frame> {
    for (let i = 0; i < n; i++) {
      if (periodMs) await sleep(periodMs, signal);
      yield rampFrame(i, 48, 32);
    }
  };
}

describe('addons/local/movie-writer', function () {
  this.timeout(60_000);
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'concert-movie-writer-'));
  });
  afterEach(() => rm(root, { recursive: true, force: true }));

  it('lossless: every frame of each acquisition run is in a movie in the scan directory', async function () {
    debianFfmpeg(this);
    const exp = await Experiment.create(
      [await Acquisition.create('darks', producer(4)), await Acquisition.create('radios', producer(30))],
      { walker: await DirectoryWalker.create({ root }) },
    );
    const writer = await MovieWriter.create(exp, { fps: 15, overlay: true });
    await exp.run();
    await exp.run();
    const scan0 = (await readdir(join(root, 'scan_0000'))).filter((f) => f.endsWith('.mp4')).sort();
    assert.deepEqual(scan0, ['darks.mp4', 'radios.mp4']);
    assert.deepEqual(await probe(join(root, 'scan_0000', 'radios.mp4')), {
      codec: 'h264',
      pixFmt: 'yuv420p',
      width: 48,
      height: 32,
      fps: 15,
      frames: 30,
    });
    assert.equal((await probe(join(root, 'scan_0001', 'darks.mp4'))).frames, 4);
    assert.equal(writer.movies.length, 4);
    assert.equal(writer.summary().dropped, 0);
  });

  it('latest: a time-lapse at a fixed rate that never slows the producer', async function () {
    debianFfmpeg(this);
    const exp = await Experiment.create([await Acquisition.create('live', producer(120, 5))]);
    const writer = await MovieWriter.create(exp, {
      mode: 'latest',
      every: q('100 ms'),
      fps: 10,
      dir: root,
      contrast: { min: 0, max: 6000 },
    });
    const t0 = performance.now();
    await exp.run();
    const took = performance.now() - t0;
    const movie = writer.movies[0]!;
    assert.equal(movie.path, join(root, 'live.mp4'));
    const probed = await probe(movie.path);
    assert.equal(probed.frames, movie.frames);
    assert.ok(
      movie.frames >= 3 && movie.frames <= took / 100 + 2,
      `${movie.frames} frames in ${took.toFixed(0)} ms at one per 100 ms`,
    );
    assert.ok(writer.summary().dropped > 60, 'frames between samples are dropped, not queued');
    // A second run never replaces the first movie.
    await exp.run();
    assert.deepEqual((await readdir(root)).sort(), ['live-1.mp4', 'live.mp4']);
  });

  it('latest: the movie is finished right after the producer ends, not an interval later', async function () {
    debianFfmpeg(this);
    const exp = await Experiment.create([await Acquisition.create('live', producer(20, 10))]);
    const writer = await MovieWriter.create(exp, {
      mode: 'latest',
      every: q('5 s'),
      dir: root,
      contrast: { min: 0, max: 6000 },
    });
    const t0 = performance.now();
    await exp.run();
    const took = performance.now() - t0;
    assert.ok(took < 4000, `the run took ${took.toFixed(0)} ms with one sample per 5 s`);
    const movie = writer.movies[0]!;
    // The first frame, then the newest one when the producer ended.
    assert.equal(movie.frames, 2);
    assert.equal((await probe(movie.path)).frames, 2);
  });

  it('says where movies cannot go and which option is wrong', async () => {
    const exp = await Experiment.create([await Acquisition.create('radios', producer(1))]);
    await rejectsWith(
      MovieWriter.create(exp),
      Error,
      /has no directory walker to put the movies in; pass \{ dir \} or an absolute \{ out \}/,
    );
    await rejectsWith(MovieWriter.create(exp, { dir: root, fps: -1 }), Error, /option 'fps' must be/);
    await rejectsWith(
      MovieWriter.create(exp, { dir: root, mode: 'fast' as never }),
      Error,
      /option 'mode' must be one of "lossless", "latest"/,
    );
  });
});
