/**
 * The fault matrix of issue 10: a remote run (camera → writer + live + benchmarker + reco
 * servers, darks/flats/radios) is hit mid-stream by a fault, then the next run starts at once.
 * Faults: each server kind killed (SIGKILL) and restarted, the disk failing (the dataset
 * directory becomes a file), and a cancel at a random point — `--runs N` times each (default 50).
 *
 * After each fault the next run must write exactly its own frames into its own `scan_NNNN`
 * (every dataset: the expected number of files, frame numbers 0…n−1, one stream id never seen
 * in another scan), or fail with a clear error. Rows per fault: runs after the fault that
 * completed, frames misplaced (goal 0) and false "complete" (goal 0).
 *
 * Run: `npx tsx bench/remote-faults.ts [--runs 50] [--only writer,disk]`. Every process it starts
 * is stopped at the end (by pid).
 * @module
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { errorMessage } from '../core/index.js';
import { RemoteRig, verifyRun, type Fault } from '../test/support/remote-rig.js';
import { printResult } from './result.js';

const FAULTS: Fault[] = ['writer', 'live', 'benchmarker', 'camera', 'reco', 'disk', 'cancel'];

/** Frames of the run that is hit (long enough to be mid-stream), and of the run after it. */
const FAULTED_FRAMES = 600;
const NEXT_FRAMES = 20;
const DATASETS: Record<string, number> = { darks: 3, flats: 3, radios: NEXT_FRAMES };

interface Tally {
  fault: Fault;
  runs: number;
  complete: number;
  failedClearly: number;
  misplaced: number;
  falseComplete: number;
  errors: Map<string, number>;
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

/** Deterministic PRNG (mulberry32), so a run of the matrix can be repeated. */
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** An error as a short class of message (numbers, paths and endpoints left out), for the summary. */
function errorClass(error: unknown): string {
  return errorMessage(error)
    .replace(/tcp:\/\/[\d.:]+/g, 'tcp://…')
    .replace(/\/tmp\/\S+/g, '/tmp/…')
    .replace(/\d+/g, 'N')
    .slice(0, 160);
}

/** Prints a fault's counts and its rows (as soon as its runs are done: a long matrix shows them as it goes). */
function report(t: Tally): void {
  console.log(
    `${t.fault}: ${t.runs} runs after the fault — ${t.complete} complete, ${t.failedClearly} failed with an error, ` +
      `${t.misplaced} frames misplaced, ${t.falseComplete} false complete`,
  );
  for (const [message, n] of t.errors) console.log(`     ${n}× ${message}`);
  const what = t.fault === 'disk' ? 'disk failure' : t.fault === 'cancel' ? 'cancel' : `${t.fault} server killed`;
  printResult({
    name: `runs after ${what}: complete`,
    value: t.complete,
    unit: `of ${t.runs}`,
    goal: { of: 'value', atLeast: Math.ceil(t.runs * 0.9) },
  });
  printResult({
    name: `frames misplaced after ${what}`,
    value: t.misplaced,
    unit: 'frames',
    goal: { of: 'value', atMost: 0 },
  });
  printResult({
    name: `false "complete" after ${what}`,
    value: t.falseComplete,
    unit: 'runs',
    goal: { of: 'value', atMost: 0 },
  });
}

async function main(): Promise<void> {
  const runs = Number(arg('runs') ?? 50);
  const only = arg('only')?.split(',') as Fault[] | undefined;
  const faults = only ?? FAULTS;
  const random = prng(Number(arg('seed') ?? 10));
  const root = await mkdtemp(join(tmpdir(), 'concert-faults-'));
  const rig = await RemoteRig.create({
    root,
    frames: FAULTED_FRAMES,
    frameRate: 400,
    width: 64,
    height: 16,
    live: true,
    benchmarker: true,
    reco: true,
  });
  const seen = new Set<string>();
  const t0 = performance.now();
  try {
    for (const fault of faults) {
      const tally: Tally = {
        fault,
        runs: 0,
        complete: 0,
        failedClearly: 0,
        misplaced: 0,
        falseComplete: 0,
        errors: new Map(),
      };
      for (let i = 0; i < runs; i++) {
        await rig.faultedRun(fault, FAULTED_FRAMES, fault === 'cancel' ? random() * 1500 : 150 + random() * 1000);
        // the next run, at once
        rig.frames = NEXT_FRAMES;
        await rig.resetCamera();
        tally.runs++;
        try {
          const result = await rig.exp.run();
          const check = await verifyRun(root, result.directory!, DATASETS, seen);
          tally.misplaced += check.misplaced;
          if (check.ok) tally.complete++;
          else {
            tally.falseComplete++;
            console.log(`   ${fault} #${i}: run ${result.directory} claimed complete: ${check.problems.join('; ')}`);
          }
        } catch (error) {
          tally.failedClearly++;
          const key = errorClass(error);
          tally.errors.set(key, (tally.errors.get(key) ?? 0) + 1);
        }
        if ((i + 1) % 10 === 0)
          process.stdout.write(
            `   ${fault}: ${i + 1}/${runs} (${tally.complete} complete, ${tally.failedClearly} failed with an error, ` +
              `${tally.misplaced} misplaced, ${tally.falseComplete} false complete; ${((performance.now() - t0) / 1000).toFixed(0)} s)\n`,
          );
      }
      report(tally);
    }
  } finally {
    await rig.close();
    await rm(root, { recursive: true, force: true });
  }
}

await main();
process.exit(0);
