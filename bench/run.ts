/**
 * The benchmark runner (`npm run bench`). Runs, in this order:
 *
 * 1. every in-process module `bench/*.bench.ts` (it exports `run(): Promise<BenchResult[]>`, see
 *    `bench/result.ts`);
 * 2. the standalone scripts listed in {@link SCRIPTS}, each as a child process (`npx tsx <file>`)
 *    with a time limit, their output passed through as it comes. A script may also print lines
 *    `BENCH_RESULT {"name": …, "value": …, "unit": …, "baseline": …}` to put rows in the table.
 *
 * Then prints one table (ours, the reference measured in the same run, ratio = value / baseline,
 * goal, met or not; where a reference is missing, why) and one line per script (ok / failed /
 * timed out / missing). Exits 1 if anything failed or timed out.
 *
 * `--check` is the regression guard: every goal met is recorded in `bench/goals-met.json`
 * (committed); a later `--check` run exits 1 when a row recorded there no longer meets its goal,
 * and records newly met goals. It is not part of `npm test`: run it before you stop.
 *
 * Usage: `npm run bench -- [--timeout=SECONDS] [--list] [--check] [NAME …]` where NAME selects
 * modules and scripts by file name (`devices`, `transport`, …).
 * @module
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { errorMessage } from '../core/errors.js';
import { goalMet, goalText, type BenchResult } from './result.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = dirname(here);

/** Standalone benchmark scripts, run as child processes; `timeoutS` defaults to `--timeout` (180 s). */
export const SCRIPTS: ReadonlyArray<{ file: string; args?: string[]; timeoutS?: number }> = [
  { file: 'experiments.ts' },
  { file: 'writers.ts', timeoutS: 600 },
  { file: 'transport.ts', timeoutS: 900 },
  { file: 'reco.ts', timeoutS: 900 },
  { file: 'tango.ts' },
  { file: 'tango-server.ts' },
  { file: 'tango-fuzz.ts', timeoutS: 1800 },
  { file: 'remote.ts', timeoutS: 420 },
  { file: 'remote-fuzz.ts', timeoutS: 1800 },
  { file: 'remote-faults.ts', timeoutS: 5400 },
  { file: 'live-view.ts', timeoutS: 600 },
  { file: 'session.ts', timeoutS: 600 },
  { file: 'video.ts', timeoutS: 300 },
  { file: 'streaming.ts', timeoutS: 300 },
  { file: 'ctrl-c.ts', timeoutS: 3600 },
  { file: 'conductor.ts', timeoutS: 300 },
  { file: 'plan.ts', timeoutS: 300 },
];

interface Row extends BenchResult {
  source: string;
}

interface ScriptOutcome {
  file: string;
  status: 'ok' | 'failed' | 'timed out' | 'missing' | 'error';
  seconds: number;
  detail?: string;
}

function parseArgs(argv: string[]): { timeoutS: number; list: boolean; check: boolean; names: string[] } {
  let timeoutS = 180;
  let list = false;
  let check = false;
  const names: string[] = [];
  for (const arg of argv) {
    if (arg === '--list') list = true;
    else if (arg === '--check') check = true;
    else if (arg.startsWith('--timeout=')) {
      timeoutS = Number(arg.slice('--timeout='.length));
      if (!(timeoutS > 0)) throw new Error(`--timeout must be a number of seconds > 0, got ${arg}`);
    } else if (arg.startsWith('-'))
      throw new Error(`unknown option ${arg} (allowed: --timeout=SECONDS, --list, --check)`);
    else names.push(arg.replace(/(\.bench)?\.ts$/, ''));
  }
  return { timeoutS, list, check, names };
}

const nameOf = (file: string) => basename(file).replace(/(\.bench)?\.ts$/, '');

function selected(names: string[], file: string): boolean {
  return names.length === 0 || names.includes(nameOf(file));
}

function isResult(value: unknown): value is BenchResult {
  const r = value as BenchResult;
  return (
    typeof r === 'object' &&
    r !== null &&
    typeof r.name === 'string' &&
    typeof r.value === 'number' &&
    typeof r.unit === 'string'
  );
}

async function runModule(file: string, rows: Row[], failures: string[]): Promise<void> {
  const name = nameOf(file);
  process.stdout.write(`\n== ${name} (in process)\n`);
  const t0 = performance.now();
  try {
    const mod = (await import(pathToFileURL(join(here, file)).href)) as { run?: () => Promise<unknown> };
    if (typeof mod.run !== 'function') throw new Error(`${file} does not export run()`);
    const results = await mod.run();
    if (!Array.isArray(results) || !results.every(isResult))
      throw new Error(`${file}: run() must resolve to BenchResult[]`);
    for (const r of results) rows.push({ ...r, source: name });
    process.stdout.write(`   ${results.length} results in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
  } catch (error) {
    failures.push(`${file}: ${errorMessage(error)}`);
    process.stdout.write(`   failed: ${(error as Error).stack ?? String(error)}\n`);
  }
}

const children = new Set<number>();

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // Already gone.
  }
}

function runScript(script: { file: string; args?: string[] }, timeoutS: number, rows: Row[]): Promise<ScriptOutcome> {
  const path = join(here, script.file);
  const name = nameOf(script.file);
  if (!existsSync(path)) return Promise.resolve({ file: script.file, status: 'missing', seconds: 0 });
  process.stdout.write(`\n== ${name} (npx tsx bench/${script.file}, limit ${timeoutS} s)\n`);
  const t0 = performance.now();
  return new Promise((resolve) => {
    // Own process group, so a time-out kills npx, tsx, node and whatever the script started.
    const child = spawn('npx', ['tsx', path, ...(script.args ?? [])], {
      cwd: root,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let timedOut = false;
    let killTimer: NodeJS.Timeout | undefined;
    if (child.pid !== undefined) children.add(child.pid);
    const timer = setTimeout(() => {
      timedOut = true;
      process.stdout.write(`\n   ${name}: time limit of ${timeoutS} s reached, stopping it\n`);
      if (child.pid !== undefined) {
        killGroup(child.pid, 'SIGTERM');
        const pid = child.pid;
        killTimer = setTimeout(() => killGroup(pid, 'SIGKILL'), 3000);
      }
    }, timeoutS * 1000);
    let pending = '';
    child.stdout.on('data', (chunk: Buffer) => {
      process.stdout.write(chunk);
      pending += chunk.toString();
      const lines = pending.split('\n');
      pending = lines.pop()!;
      for (const line of lines) collect(line, name, rows);
    });
    child.stderr.on('data', (chunk: Buffer) => process.stderr.write(chunk));
    const finish = (outcome: Omit<ScriptOutcome, 'file' | 'seconds'>) => {
      clearTimeout(timer);
      clearTimeout(killTimer);
      if (child.pid !== undefined) children.delete(child.pid);
      if (pending) collect(pending, name, rows);
      resolve({ file: script.file, seconds: (performance.now() - t0) / 1000, ...outcome });
    };
    child.on('error', (error) => finish({ status: 'error', detail: error.message }));
    child.on('close', (code, signal) => {
      if (timedOut) finish({ status: 'timed out' });
      else if (code === 0) finish({ status: 'ok' });
      else finish({ status: 'failed', detail: signal ? `killed by ${signal}` : `exit code ${code}` });
    });
  });
}

function collect(line: string, source: string, rows: Row[]): void {
  const m = /^BENCH_RESULT (\{.*\})\s*$/.exec(line.trim());
  if (!m) return;
  try {
    const r = JSON.parse(m[1]!) as unknown;
    if (isResult(r)) rows.push({ ...r, source });
  } catch {
    // Not JSON: ignore the line.
  }
}

function num(n: number | undefined): string {
  if (n === undefined || !Number.isFinite(n)) return '–';
  const a = Math.abs(n);
  if (a !== 0 && (a >= 1e6 || a < 1e-3)) return n.toExponential(2);
  return Number(n.toPrecision(4)).toString();
}

/** Formats the rows as an aligned text table. */
export function table(rows: Row[]): string {
  const head = ['benchmark', 'name', 'ours', 'unit', 'reference (same run)', 'ratio', 'goal', 'met'];
  const body = rows.map((r) => {
    const met = goalMet(r);
    return [
      r.source,
      r.name,
      num(r.value),
      r.unit,
      r.baseline === undefined
        ? r.missing
          ? `missing: ${r.missing}`
          : '–'
        : `${num(r.baseline)}${r.baselineName ? ` (${r.baselineName})` : ''}`,
      r.baseline ? `${(r.value / r.baseline).toFixed(2)}×` : '–',
      goalText(r),
      met === undefined ? (r.goal ? '?' : '') : met ? 'yes' : 'NO',
    ];
  });
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const right = new Set([2, 5]);
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (right.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}

async function main(): Promise<number> {
  const { timeoutS, list, check, names } = parseArgs(process.argv.slice(2));
  const modules = readdirSync(here)
    .filter((f) => f.endsWith('.bench.ts'))
    .sort();
  if (list) {
    for (const m of modules) console.log(`${nameOf(m).padEnd(12)} in process   bench/${m}`);
    for (const s of SCRIPTS)
      console.log(
        `${nameOf(s.file).padEnd(12)} script       bench/${s.file}${existsSync(join(here, s.file)) ? '' : ' (missing)'}`,
      );
    return 0;
  }
  const known = new Set([...modules, ...SCRIPTS.map((s) => s.file)].map(nameOf));
  const unknown = names.filter((n) => !known.has(n));
  if (unknown.length)
    throw new Error(`unknown benchmark ${unknown.join(', ')} (known: ${[...known].sort().join(', ')})`);

  const rows: Row[] = [];
  const failures: string[] = [];
  for (const m of modules.filter((f) => selected(names, f))) await runModule(m, rows, failures);
  const outcomes: ScriptOutcome[] = [];
  for (const s of SCRIPTS.filter((x) => selected(names, x.file)))
    outcomes.push(await runScript(s, s.timeoutS ?? timeoutS, rows));

  console.log(rows.length ? `\n${table(rows)}\n` : '\n(no results)\n');
  for (const o of outcomes)
    console.log(
      `${nameOf(o.file).padEnd(12)} ` +
        `${o.status}${o.status === 'missing' ? '' : ` in ${o.seconds.toFixed(1)} s`}${o.detail ? ` (${o.detail})` : ''}`,
    );
  for (const f of failures) console.log(`failed: ${f}`);
  const lost = check ? checkGoals(rows) : 0;
  const bad =
    lost +
    failures.length +
    outcomes.filter((o) => o.status === 'failed' || o.status === 'timed out' || o.status === 'error').length;
  return bad ? 1 : 0;
}

const GOALS_MET = join(here, 'goals-met.json');
const rowKey = (r: Row) => `${r.source}: ${r.name}`;

/**
 * The regression guard of `--check`: rows recorded in goals-met.json that no longer meet their
 * goal are lost (counted and printed); newly met goals are added to the record. Rows that did not
 * run (not selected, reference missing) are neither lost nor removed.
 */
function checkGoals(rows: Row[]): number {
  const recorded = new Set<string>(
    existsSync(GOALS_MET) ? (JSON.parse(readFileSync(GOALS_MET, 'utf8')) as string[]) : [],
  );
  let lost = 0;
  for (const r of rows) {
    const met = goalMet(r);
    if (met === undefined) continue;
    const key = rowKey(r);
    if (met) recorded.add(key);
    else if (recorded.has(key)) {
      lost++;
      console.log(`check: goal lost: ${key} (${goalText(r)})`);
    }
  }
  writeFileSync(GOALS_MET, `${JSON.stringify([...recorded].sort(), null, 2)}\n`);
  console.log(lost ? `check: ${lost} goal(s) lost` : `check: no met goal lost (${recorded.size} recorded)`);
  return lost;
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    for (const pid of children) killGroup(pid, 'SIGKILL');
    process.exit(130);
  });
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().then(
    (code) => process.exit(code),
    (error) => {
      console.error(`bench: ${errorMessage(error)}`);
      process.exit(2);
    },
  );
}
