import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeFrame, sleep, type Frame } from '../../../../core/index.js';
import { Acquisition, Experiment } from '../../../../experiments/index.js';
import { Recorder } from '../../../../addons/local/index.js';
import { LogReader, RecordingError, type LogRecord } from '../../../../recording/index.js';
import { rejectsWith } from '../../../support/async.js';

function producer(n: number, periodMs: number) {
  return async function* (signal: AbortSignal): AsyncGenerator<Frame> {
    for (let i = 0; i < n; i++) {
      await sleep(periodMs, signal);
      yield makeFrame(
        Uint16Array.from({ length: 16 }, (_, k) => i * 16 + k),
        [4, 4],
        { frameNumber: i, angle: i / 2 },
      );
    }
  };
}

async function read(path: string): Promise<LogRecord[]> {
  const reader = await LogReader.open(path);
  const out: LogRecord[] = [];
  for await (const r of reader.records()) out.push(r);
  assert.ok(reader.ending?.complete);
  await reader.close();
  return out;
}

describe('addons/local/recorder', function () {
  this.timeout(30_000);
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'concert-recorder-'));
  });
  afterEach(() => rm(root, { recursive: true, force: true }));

  it('records three segments in one run: each its own file, consecutive frames with metadata, none twice', async () => {
    const exp = await Experiment.create([await Acquisition.create('radios', producer(60, 5))]);
    const rec = await Recorder.create(exp);
    const run = exp.run();
    const paths = [0, 1, 2].map((i) => join(root, `seg${i}.clog`));
    for (const path of paths) {
      await rec.start(path);
      await rejectsWith(
        rec.start(join(root, 'x.clog')),
        RecordingError,
        /already recording to .*seg\d\.clog; stop\(\) first/,
      );
      await sleep(40);
      const result = await rec.stop();
      assert.equal(result.path, path);
      await sleep(20);
    }
    await run;
    await rejectsWith(rec.stop(), RecordingError, /not recording/);
    const numbers: number[][] = [];
    for (const path of paths) {
      const records = await read(path);
      const frames = records.filter((r) => r.kind === 'frame');
      assert.ok(frames.length > 0, `${path} holds frames`);
      numbers.push(frames.map((r) => r.frame.metadata.frameNumber));
      for (const r of frames) {
        assert.equal(r.frame.metadata.acquisition, 'radios');
        assert.equal(r.frame.metadata.angle, r.frame.metadata.frameNumber / 2);
        assert.deepEqual(
          [...r.frame.data],
          Array.from({ length: 16 }, (_, k) => r.frame.metadata.frameNumber * 16 + k),
        );
      }
    }
    for (const seq of numbers)
      assert.deepEqual(
        seq,
        seq.map((_, i) => seq[0]! + i),
        'consecutive',
      );
    assert.ok(numbers[0]!.at(-1)! < numbers[1]![0]! && numbers[1]!.at(-1)! < numbers[2]![0]!, 'in order, no overlap');
    assert.equal(rec.segments.length, 3);
    const summary = rec.summary();
    assert.equal(summary.segments, 3);
    assert.ok((summary.discarded as number) > 0, 'frames between segments are discarded');
  });

  it('a segment across runs holds every frame of each and an end marker per acquisition run', async () => {
    const darks = await Acquisition.create('darks', producer(3, 1));
    const radios = await Acquisition.create('radios', producer(5, 1));
    const exp = await Experiment.create([darks, radios]);
    const rec = await Recorder.create(exp);
    const path = join(root, 'all.clog');
    await rec.start(path);
    await exp.run();
    await exp.run();
    await rec.stop();
    const records = await read(path);
    const kinds = records.map((r) =>
      r.kind === 'frame'
        ? `${r.frame.metadata.acquisition}`
        : r.kind === 'end'
          ? `end:${r.header.acquisition}`
          : r.kind,
    );
    const one = [...Array(3).fill('darks'), 'end:darks', ...Array(5).fill('radios'), 'end:radios'];
    assert.deepEqual(kinds, [...one, ...one]);
    const reader = await LogReader.open(path);
    assert.deepEqual(reader.header.source, {
      kind: 'acquisition',
      description: `${exp.name}: darks, radios`,
      acquisitions: ['darks', 'radios'],
    });
    await reader.close();
    await rec.start(join(root, 'open.clog'));
    await rec.detach();
    assert.equal(rec.recording, undefined, 'detach closes the open segment');
    assert.equal((await read(join(root, 'open.clog'))).length, 0);
  });
});
