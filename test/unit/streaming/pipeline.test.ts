/**
 * The pipeline, end to end: a detector simulation process writes TIFFs at 200/s while a
 * three-stage pipeline runs (read → flat-correct on 2 workers → write, plus statistics on the
 * read frames); stopped after 500 items. Debian's `sqlite3` reads the sets while they are open,
 * then sees them closed.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Frame } from '../../../core/frame.js';
import { DirectoryWatcher, StreamingStep } from '../../../streaming/index.js';
import { TiffWriter, readTiff } from '../../../walkers/formats/index.js';
import { requireTool } from '../../support/tools.js';
import { within } from '../../support/async.js';
import { detectorPixel } from './fixtures/detector-pixel.js';
import { sqlite3, startDetector, stopProcess, until, useTempDir } from './helpers.js';

const SIZE = 64;

/** Frame number k of a detector file name `frame_00000k.tif`. */
const frameOf = (name: string) => Number(/frame_(\d+)\.tif$/.exec(name)![1]);

describe('streaming pipeline with a detector simulation process', function () {
  this.timeout(120_000);
  let detector: ChildProcess | undefined;
  afterEach(() => stopProcess(detector)); // before the temporary directory goes
  const tmp = useTempDir();

  it(
    'processes 500 of the files written at 200/s exactly once through read → flat (2 workers) → write, plus ' +
      'statistics',
    async function () {
      requireTool(this, 'sqlite3', 'sqlite3');
      const input = join(tmp.path, 'detector');
      const out = join(tmp.path, 'corrected');
      const sets = join(tmp.path, 'sets');
      const set = (name: string) => join(sets, `${name}.sqlite`);
      const calls = { read: new Map<string, number>(), write: 0, stats: 0 };

      const { mkdir } = await import('node:fs/promises');
      await mkdir(input, { recursive: true });
      await mkdir(out, { recursive: true });
      const watcher = await DirectoryWatcher.create({ directory: input, pattern: 'frame_*.tif', fileTimeoutMs: 100 });
      const read = await StreamingStep.create({
        name: 'read',
        input: watcher,
        set: set('read'),
        stop: { count: 500 },
        process: async (file): Promise<Frame> => {
          calls.read.set(file.name, (calls.read.get(file.name) ?? 0) + 1);
          const [page] = await readTiff(file.path);
          return {
            ...page!.frame,
            metadata: { ...page!.frame.metadata, frameNumber: frameOf(file.name), file: file.name },
          };
        },
      });
      const flat = await StreamingStep.create<Frame, Frame>({
        name: 'flat',
        input: read.output,
        set: set('flat'),
        worker: new URL('./fixtures/flat-worker.ts', import.meta.url),
        workerConfig: { dark: new Float32Array(SIZE * SIZE).fill(100), flat: new Float32Array(SIZE * SIZE).fill(1100) },
        concurrency: 2,
      });
      const write = await StreamingStep.create({
        name: 'write',
        input: flat.output,
        set: set('write'),
        process: async (frame: Frame) => {
          calls.write++;
          const path = join(out, String(frame.metadata.file));
          await TiffWriter.writeFile(path, frame);
          return path;
        },
      });
      const stats = await StreamingStep.create({
        name: 'stats',
        input: read.output,
        set: set('stats'),
        process: (frame: Frame) => {
          calls.stats++;
          let sum = 0;
          let min = Infinity;
          let max = -Infinity;
          for (const v of frame.data) {
            sum += v;
            if (v < min) min = v;
            if (v > max) max = v;
          }
          return { frameNumber: frame.metadata.frameNumber, mean: sum / frame.data.length, min, max };
        },
      });

      detector = await startDetector(input, [
        '--rate',
        '200',
        '--count',
        '800',
        '--size',
        String(SIZE),
        '--mode',
        'direct',
      ]);

      // Another process reads the sets while they are open.
      const summary = (name: string) => {
        const [row] = sqlite3(set(name), 'SELECT state, items, failed FROM summary');
        return { state: row![0], items: Number(row![1]), failed: Number(row![2]) };
      };
      await until(() => summary('write').items >= 50, 30_000, 'write set with 50 items', 50);
      for (const name of ['read', 'flat', 'write', 'stats']) {
        const s = summary(name);
        assert.equal(s.state, 'open', `${name} is open while streaming`);
        assert.ok(s.items > 0 && s.items < 500, `${name} has ${s.items} items while open`);
      }

      const closed = await within(60_000, Promise.all([read.done, flat.done, write.done, stats.done]), 'the pipeline');
      assert.deepEqual(
        closed.map((c) => c.reason),
        ['count', 'input-closed', 'input-closed', 'input-closed'],
      );
      for (const name of ['read', 'flat', 'write', 'stats'])
        assert.deepEqual(summary(name), { state: 'closed', items: 500, failed: 0 }, `${name} as sqlite3 sees it`);
      assert.equal(
        sqlite3(set('read'), 'SELECT count(DISTINCT input_key) FROM items')[0]![0],
        '500',
        'sqlite3: 500 distinct files',
      );

      // Every item processed exactly once at every stage.
      assert.equal(calls.read.size, 500);
      assert.ok(
        [...calls.read.values()].every((n) => n === 1),
        'each file read once',
      );
      assert.deepEqual([calls.write, calls.stats], [500, 500]);
      const readIndices = read.output.items.map((i) => String(i.index)).sort();
      for (const step of [flat, stats]) {
        const keys = step.output.items.map((i) => i.inputKey);
        assert.equal(new Set(keys).size, 500, `${step.name}: no item twice`);
        assert.deepEqual([...keys].sort(), readIndices, `${step.name}: every read item`);
      }
      assert.deepEqual(
        write.output.items.map((i) => i.inputKey).sort(),
        flat.output.items.map((i) => String(i.index)).sort(),
      );

      // The results are right: corrected files hold (raw − dark) / (flat − dark); statistics the raw value.
      for (const item of write.output.items) {
        const path = item.value as string;
        assert.ok(existsSync(path), path);
        const k = frameOf(path);
        const [page] = await readTiff(path);
        assert.equal(page!.frame.dtype, 'float32');
        assert.ok(Math.abs(page!.frame.data[123]! - ((k % 97) + 1) / 100) < 1e-6, `${path}: ${page!.frame.data[123]}`);
      }
      for (const item of stats.output.items) {
        const s = item.value as { frameNumber: number; mean: number; min: number; max: number };
        assert.deepEqual([s.mean, s.min, s.max], Array(3).fill(detectorPixel(s.frameNumber)));
      }
      // Memory stayed bounded: frames released once every chained step took them.
      assert.ok(read.output.items.filter((i) => i.value !== undefined).length <= 16 + 32);
    },
  );
});
