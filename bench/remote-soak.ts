/**
 * Soak of the remote data path (issue 10): runs experiments back to back for `--minutes`
 * (default 30) through camera → writer + live + reco servers, killing (SIGKILL) and restarting
 * one server every `--restart-every` minutes (default 3; writer, live, reco, camera in turn).
 * Every completed run is read back (each dataset: its own stream, the expected number of
 * frames); the resident memory of the session and of every server is sampled every 5 s.
 *
 * Writes `bench/results/remote-soak.json` and plots memory and frame counts over time into
 * `bench/results/remote-soak.png` (Debian's python3-matplotlib). Rows: frames misplaced (goal 0),
 * false "complete" (goal 0), runs completed, and the session's memory at the end against its
 * memory after the first minutes (goal ratio ≤ 1.2). Not part of `npm test`.
 *
 * Run: `npx tsx bench/remote-soak.ts [--minutes 30] [--restart-every 3]`.
 * @module
 */
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { errorMessage, sleep } from '../core/index.js';
import { RemoteRig, verifyRun, type RigServer } from '../test/support/remote-rig.js';
import { printResult } from './result.js';

const here = dirname(fileURLToPath(import.meta.url));
const RESTARTED: RigServer[] = ['writer', 'live', 'reco', 'camera'];
const RADIOS = 200;
const DATASETS: Record<string, number> = { darks: 3, flats: 3, radios: RADIOS };

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

async function rss(pid: number | undefined): Promise<number | null> {
  if (pid === undefined) return null;
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) / 1024;
  } catch {
    return null; // between a kill and its restart
  }
}

interface Sample {
  t: number;
  /** MiB per process. */
  memory: Record<string, number | null>;
  framesWritten: number;
  runsComplete: number;
  runsFailed: number;
}

async function main(): Promise<void> {
  const minutes = arg('minutes', 30);
  const restartEvery = arg('restart-every', 3);
  const root = await mkdtemp(join(tmpdir(), 'concert-soak-'));
  const rig = await RemoteRig.create({ root, frames: RADIOS, frameRate: 400, live: true, reco: true });
  const t0 = performance.now();
  const elapsed = () => (performance.now() - t0) / 1000;
  const samples: Sample[] = [];
  const restarts: { t: number; kind: string }[] = [];
  const failures = new Map<string, number>();
  const seen = new Set<string>();
  let framesWritten = 0;
  let runsComplete = 0;
  let runsFailed = 0;
  let misplaced = 0;
  let falseComplete = 0;
  let stop = false;
  const sampler = (async () => {
    while (!stop) {
      const memory: Record<string, number | null> = { session: process.memoryUsage().rss / 2 ** 20 };
      for (const [kind, server] of rig.servers) memory[kind] = await rss(server.child.pid);
      samples.push({ t: elapsed(), memory, framesWritten, runsComplete, runsFailed });
      await sleep(5000);
    }
  })();
  const restarter = (async () => {
    let next = 0;
    while (!stop) {
      await sleep(restartEvery * 60_000);
      if (stop) break;
      const kind = RESTARTED[next++ % RESTARTED.length]!;
      restarts.push({ t: elapsed(), kind });
      console.log(`   ${elapsed().toFixed(0)} s: killing and restarting the ${kind} server`);
      await rig.restart(kind).catch((e: unknown) => console.log(`   restart of ${kind} failed: ${errorMessage(e)}`));
    }
  })();
  try {
    while (elapsed() < minutes * 60) {
      await rig.resetCamera();
      try {
        const result = await rig.exp.run();
        const check = await verifyRun(root, result.directory!, DATASETS, seen);
        misplaced += check.misplaced;
        framesWritten += check.files;
        if (check.ok) runsComplete++;
        else {
          falseComplete++;
          console.log(`   ${result.directory} claimed complete: ${check.problems.join('; ')}`);
        }
        await rm(join(root, result.directory!), { recursive: true, force: true }); // keep the disk bounded
      } catch (error) {
        runsFailed++;
        const key = errorMessage(error)
          .replace(/tcp:\/\/[\d.:]+/g, 'tcp://…')
          .replace(/\d+/g, 'N')
          .slice(0, 140);
        failures.set(key, (failures.get(key) ?? 0) + 1);
        await sleep(500);
      }
      if ((runsComplete + runsFailed) % 50 === 0)
        console.log(
          `   ${elapsed().toFixed(0)} s: ${runsComplete} runs complete, ${runsFailed} failed, ${framesWritten} frames written`,
        );
    }
  } finally {
    stop = true;
    await Promise.race([Promise.all([sampler, restarter]), sleep(6000)]);
    await rig.close();
    await rm(root, { recursive: true, force: true });
  }
  console.log(
    `soak: ${minutes} min, ${runsComplete} runs complete, ${runsFailed} failed, ${framesWritten} frames written and read ` +
      `back, ${misplaced} misplaced, ${falseComplete} false complete, ${restarts.length} restarts`,
  );
  for (const [message, n] of failures) console.log(`     ${n}× ${message}`);
  const results = join(here, 'results');
  await mkdir(results, { recursive: true });
  const json = join(results, 'remote-soak.json');
  await writeFile(json, JSON.stringify({ minutes, restartEvery, samples, restarts }, null, 1));
  const png = join(results, 'remote-soak.png');
  const plotted = spawnSync('/usr/bin/python3', [join(here, 'plot-soak.py'), json, png], { encoding: 'utf8' });
  console.log(plotted.status === 0 ? `plot: ${png}` : `plot failed: ${plotted.stderr || plotted.error?.message}`);

  const session = samples.map((s) => s.memory.session!).filter((m) => m > 0);
  const early = Math.max(...session.slice(0, Math.max(1, Math.floor(session.length / 10))));
  const late = Math.max(...session.slice(-Math.max(1, Math.floor(session.length / 10))));
  printResult({ name: 'soak: frames misplaced', value: misplaced, unit: 'frames', goal: { of: 'value', atMost: 0 } });
  printResult({ name: 'soak: false "complete"', value: falseComplete, unit: 'runs', goal: { of: 'value', atMost: 0 } });
  printResult({
    name: `soak: runs complete (${restarts.length} server restarts)`,
    value: runsComplete,
    unit: 'runs',
    baseline: runsComplete + runsFailed,
    baselineName: 'runs',
    goal: { of: 'ratio', atLeast: 0.8 },
  });
  printResult({
    name: 'soak: session memory, last tenth of the run',
    value: late,
    unit: 'MiB',
    baseline: early,
    baselineName: 'first tenth',
    goal: { of: 'ratio', atMost: 1.2 },
  });
}

await main();
process.exit(0);
