/**
 * Start-up of `concert start` against Python Concert in the same run (issue 16's start-up rows):
 *
 * - `concert start demo --non-interactive` (10 dummy devices, an experiment, addons) against
 *   Python Concert's `concert start bench10 --non-interactive` (10 dummy devices), goal ≤ 0.35×;
 * - interactive start to the first prompt, both spawned under `expect` in a pty with the clock
 *   stopped when the prompt is printed, goal ≤ 0.5×;
 * - the first start after `npm ci`, whose postinstall made the transpile and V8 code caches
 *   (`concert --prepare-install`), goal ≤ 2 s, and after `npm ci --ignore-scripts` (an empty
 *   cache: the first start transpiles everything), both beside `node -e 0` in the same run;
 * - each also through `npx concert` (npm's own start-up, ≈ 0.5 s, comes on top: put `concert` on
 *   the PATH with `npm link` to avoid it).
 *
 * Python Concert is measured as ../shared/anchors/python-concert/bench_startup.sh measures it
 * (same session file, scratch HOME and XDG_DATA_HOME, VIRTUAL_ENV unset, the same expect
 * recipe); runs alternate between the two so both see the same machine load. Without Python
 * Concert (run its setup.sh) or expect, the rows say what is missing.
 *
 *   npx tsx bench/session.ts [runs]      env: CONCERT_VENV (default /tmp/concert-venv)
 *
 * `CONCERT_BENCH_BEFORE=<another checkout>` also times that checkout's bin/concert in the same
 * rounds (printed, not rows): before/after figures of a change.
 * @module
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median, printResult, type BenchResult } from './result.js';

const root = fileURLToPath(new URL('../', import.meta.url));
const runs = Number(process.argv[2] ?? 5);
const work = mkdtempSync(join(tmpdir(), 'concert-bench-session-'));
const anchors = join(root, '..', 'shared', 'anchors', 'python-concert');
const venv = process.env.CONCERT_VENV ?? '/tmp/concert-venv';
const pythonConcert = join(venv, 'bin', 'concert');

/** Python Concert's bench session (bench_startup.sh): 10 dummy devices. */
const BENCH10 = `"""# bench10: 10 dummy devices for start-up benchmarks"""
import logging
import concert
from concert.quantities import q
from concert.devices.base import Device
from concert.devices.motors.dummy import LinearMotor, ContinuousRotationMotor
from concert.devices.cameras.dummy import Camera
from concert.devices.shutters.dummy import Shutter

LOG = logging.getLogger(__name__)
MULTIINSTANCE = True

motor_0 = await LinearMotor()
motor_1 = await LinearMotor()
motor_2 = await LinearMotor()
motor_3 = await LinearMotor()
motor_4 = await LinearMotor()
rot_0 = await ContinuousRotationMotor()
rot_1 = await ContinuousRotationMotor()
camera = await Camera()
shutter_0 = await Shutter()
shutter_1 = await Shutter()
await motor_0.set_position(1 * q.mm)
print(f"bench10: {sum(isinstance(v, Device) for v in list(globals().values()))} devices, "
      f"motor_0 at {await motor_0.get_position()}")
`;

interface Runner {
  command: string[];
  env: NodeJS.ProcessEnv;
  cwd: string;
}

const have = (program: string) => spawnSync('sh', ['-c', `command -v ${program}`]).status === 0;

function ours(
  extra: NodeJS.ProcessEnv = {},
  via: 'bin' | 'npx' = 'bin',
  checkout: string = root,
): (args: string[]) => Runner {
  const home = join(work, 'ours');
  mkdirSync(home, { recursive: true });
  return (args) => ({
    command:
      via === 'bin'
        ? [process.execPath, join(checkout, 'bin', 'concert'), ...args]
        : ['npx', '--no-install', 'concert', ...args],
    env: { ...process.env, XDG_DATA_HOME: home, ...extra },
    cwd: checkout,
  });
}
const beforeCheckout = process.env.CONCERT_BENCH_BEFORE;
const before = beforeCheckout ? ours({}, 'bin', beforeCheckout) : undefined;

function python(): ((args: string[]) => Runner) | string {
  if (!existsSync(pythonConcert))
    return `Python Concert is not installed at ${venv} (run ${join(anchors, 'setup.sh')})`;
  const dir = join(work, 'python');
  mkdirSync(join(dir, 'home'), { recursive: true });
  mkdirSync(join(dir, 'xdg', 'concert'), { recursive: true });
  writeFileSync(join(dir, 'xdg', 'concert', 'bench10.py'), BENCH10);
  const env: NodeJS.ProcessEnv = { ...process.env, HOME: join(dir, 'home'), XDG_DATA_HOME: join(dir, 'xdg') };
  delete env.VIRTUAL_ENV;
  return (args) => ({ command: [pythonConcert, ...args], env, cwd: dir });
}

/** CPU times (user + system, ms) of the runs of {@link wall}, by command line. */
const cpuTimes = new Map<string, number[]>();
const TIME = '/usr/bin/time';
const haveTime = existsSync(TIME);

/**
 * Wall time of one run to completion, ms. Its CPU time (user + system, of the process and its
 * children: GNU time's) is kept in {@link cpuTimes}: on a loaded machine wall times mostly measure
 * the wait for a core, CPU times what each start does.
 */
function wall(r: Runner): number {
  const cpuFile = join(work, 'cpu.txt');
  const [program, ...args] = haveTime ? [TIME, '-f', '%U %S', '-o', cpuFile, ...r.command] : r.command;
  const t0 = performance.now();
  const p = spawnSync(program!, args, { env: r.env, cwd: r.cwd, encoding: 'utf8' });
  const ms = performance.now() - t0;
  if (p.status !== 0) throw new Error(`${r.command.join(' ')} failed (${p.status}): ${p.stderr}`);
  if (haveTime) {
    const [user, system] = readFileSync(cpuFile, 'utf8').trim().split('\n').pop()!.split(' ').map(Number);
    const key = r.command.join(' ');
    cpuTimes.set(key, [...(cpuTimes.get(key) ?? []), (user! + system!) * 1000]);
  }
  return ms;
}

/** Median CPU time of the runs of `r`'s command (undefined without GNU time). */
function cpuOf(r: Runner): number | undefined {
  const xs = cpuTimes.get(r.command.join(' '));
  return xs?.length ? median(xs) : undefined;
}

/**
 * Time from spawning to the prompt, in a pty under expect (bench_startup.sh's recipe: answer the
 * terminal's cursor-position query, stop the clock at the prompt, then quit).
 */
function toPrompt(r: Runner, prompt: string, quit: string): number {
  const script = join(work, 'prompt.exp');
  const tcl = (s: string) => `{${s}}`;
  writeFileSync(
    script,
    `set timeout 60
log_user 0
cd ${tcl(r.cwd)}
set t0 [clock microseconds]
spawn -noecho ${r.command.map(tcl).join(' ')}
expect {
  -re "\\x1b\\\\\\[6n" { send "\\x1b\\[1;1R"; exp_continue }
  -re ${tcl(prompt)} { set t1 [clock microseconds] }
  timeout { puts "TIMEOUT"; exit 1 }
  eof { puts "EOF before prompt"; exit 1 }
}
send "${quit}\\r"
expect eof
puts [expr {$t1 - $t0}]
`,
  );
  const p = spawnSync('expect', [script], { env: r.env, encoding: 'utf8' });
  const us = Number(p.stdout.trim());
  if (p.status !== 0 || !Number.isFinite(us)) throw new Error(`${r.command.join(' ')}: ${p.stdout}${p.stderr}`);
  return us / 1000;
}

/** Runs each measurement once per round, alternating, after one warm-up round; returns medians. */
function paired(measures: Record<string, (() => number) | undefined>): Record<string, number> {
  const entries = Object.entries(measures).filter((e): e is [string, () => number] => e[1] !== undefined);
  for (const [, fn] of entries) fn(); // warm-up: page cache, transpile and code caches
  const times = new Map<string, number[]>(entries.map(([k]) => [k, []]));
  for (let i = 0; i < runs; i++) for (const [k, fn] of entries) times.get(k)!.push(fn());
  const out: Record<string, number> = {};
  for (const [k, xs] of times) {
    out[k] = median(xs);
    console.log(
      `  ${k.padEnd(58)} median ${out[k].toFixed(0).padStart(5)} ms  (${xs.map((x) => x.toFixed(0)).join(', ')})`,
    );
  }
  return out;
}

function row(
  name: string,
  value: number,
  ref: number | undefined,
  missing: string | undefined,
  goal: BenchResult['goal'],
) {
  const result: BenchResult = { name, value, unit: 'ms', goal };
  if (ref !== undefined) Object.assign(result, { baseline: ref, baselineName: 'Python Concert 0.34 (same run)' });
  else if (missing) result.missing = missing;
  printResult(result);
}

try {
  console.log(
    `concert start-up, ${runs} runs each after a warm-up, alternating with Python Concert; load ${loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')}`,
  );
  const py = python();
  const pyRun = typeof py === 'string' ? undefined : py;
  const expectMissing = have('expect') ? undefined : 'expect is not installed (apt-get install expect)';
  const pyMissing = typeof py === 'string' ? py : undefined;
  const bench = ours();
  const npx = ours({}, 'npx');

  console.log('non-interactive start (wall time to exit):');
  const batch = paired({
    'node -e 0 (baseline)': () => wall({ command: [process.execPath, '-e', '0'], env: process.env, cwd: root }),
    'Python Concert: concert start bench10 --non-interactive':
      pyRun && (() => wall(pyRun(['start', 'bench10', '--non-interactive']))),
    'concert start demo --non-interactive (bin/concert)': () => wall(bench(['start', 'demo', '--non-interactive'])),
    'concert start demo --non-interactive (npx concert)': () => wall(npx(['start', 'demo', '--non-interactive'])),
    'before: concert start demo --non-interactive (bin/concert)':
      before && (() => wall(before(['start', 'demo', '--non-interactive']))),
  });
  const pyBatch = batch['Python Concert: concert start bench10 --non-interactive'];
  row(
    'start demo --non-interactive (bin/concert)',
    batch['concert start demo --non-interactive (bin/concert)']!,
    pyBatch,
    pyMissing,
    {
      of: 'ratio',
      atMost: 0.35,
    },
  );
  const cpuOurs = cpuOf(bench(['start', 'demo', '--non-interactive']));
  const cpuPython = pyRun && cpuOf(pyRun(['start', 'bench10', '--non-interactive']));
  const cpuNode = cpuOf({ command: [process.execPath, '-e', '0'], env: process.env, cwd: root });
  if (cpuOurs !== undefined) {
    console.log(
      `  CPU time (user + system), medians: concert ${cpuOurs.toFixed(0)} ms, Python Concert ${cpuPython?.toFixed(0) ?? '–'} ms, ` +
        `node -e 0 ${cpuNode?.toFixed(0) ?? '–'} ms (the floor of the ratio: ${cpuPython ? (cpuNode! / cpuPython).toFixed(2) : '–'})`,
    );
    printResult({
      name: 'start demo --non-interactive, CPU time (bin/concert; load-insensitive companion)',
      value: cpuOurs,
      unit: 'ms CPU',
      ...(cpuPython !== undefined
        ? { baseline: cpuPython, baselineName: 'Python Concert 0.34, CPU time (same run)' }
        : { missing: pyMissing }),
    });
  }
  row(
    'start demo --non-interactive (npx concert)',
    batch['concert start demo --non-interactive (npx concert)']!,
    pyBatch,
    pyMissing,
    undefined,
  );

  if (expectMissing) {
    for (const name of ['interactive start to first prompt (bin/concert)'])
      printResult({ name, value: NaN, unit: 'ms', goal: { of: 'ratio', atMost: 0.5 }, missing: expectMissing });
  } else {
    console.log('interactive start (spawn to the prompt on screen, in a pty):');
    const prompt = paired({
      'Python Concert: concert start bench10':
        pyRun && (() => toPrompt(pyRun(['start', 'bench10']), 'bench10[^\\n]*> ', 'exit')),
      'concert start demo (bin/concert)': () => toPrompt(bench(['start', 'demo']), 'demo > ', '.exit'),
      'concert start demo (npx concert)': () => toPrompt(npx(['start', 'demo']), 'demo > ', '.exit'),
      'before: concert start demo (bin/concert)':
        before && (() => toPrompt(before(['start', 'demo']), 'demo > ', '.exit')),
    });
    const pyPrompt = prompt['Python Concert: concert start bench10'];
    row(
      'interactive start to first prompt (bin/concert)',
      prompt['concert start demo (bin/concert)']!,
      pyPrompt,
      pyMissing,
      {
        of: 'ratio',
        atMost: 0.5,
      },
    );
    row(
      'interactive start to first prompt (npx concert)',
      prompt['concert start demo (npx concert)']!,
      pyPrompt,
      pyMissing,
      undefined,
    );
  }

  // The first start after `npm ci`: npm's postinstall ran `concert --prepare-install` (transpile
  // cache and V8 code cache made at install, timed here as the install step), then the first
  // start. Without install scripts (`npm ci --ignore-scripts`) the first start finds an empty
  // cache and transpiles the package itself (node_modules is in the page cache in both cases, as
  // npm just wrote it).
  console.log('first start after an install:');
  let fresh = 0;
  const freshCache = () => ({ CONCERT_CACHE_DIR: join(work, `cache-${fresh++}`) });
  const afterPrepare = (via: 'bin' | 'npx') => () => {
    const env = freshCache();
    prepareMs.push(wall(ours(env)(['--prepare-install'])));
    return wall(ours(env, via)(['start', 'demo', '--non-interactive']));
  };
  const prepareMs: number[] = [];
  const first = paired({
    'node -e 0 (baseline)': () => wall({ command: [process.execPath, '-e', '0'], env: process.env, cwd: root }),
    'concert start demo --non-interactive after npm ci (bin/concert)': afterPrepare('bin'),
    'concert start demo --non-interactive after npm ci (npx concert)': afterPrepare('npx'),
    'concert start demo --non-interactive, empty cache (bin/concert)': () =>
      wall(ours(freshCache())(['start', 'demo', '--non-interactive'])),
  });
  console.log(
    `  the install step (concert --prepare-install, npm's postinstall): median ${median(prepareMs).toFixed(0)} ms`,
  );
  const nodeAlone = { baseline: first['node -e 0 (baseline)']!, baselineName: 'node -e 0 (same run)' };
  printResult({
    name: 'first start after npm ci (cache made by postinstall), demo --non-interactive (bin/concert)',
    value: first['concert start demo --non-interactive after npm ci (bin/concert)']!,
    unit: 'ms',
    ...nodeAlone,
    goal: { of: 'value', atMost: 2000 },
  });
  printResult({
    name: 'first start after npm ci (cache made by postinstall), demo --non-interactive (npx concert)',
    value: first['concert start demo --non-interactive after npm ci (npx concert)']!,
    unit: 'ms',
    ...nodeAlone,
  });
  printResult({
    name: 'first start after npm ci --ignore-scripts (empty cache), demo --non-interactive (bin/concert)',
    value: first['concert start demo --non-interactive, empty cache (bin/concert)']!,
    unit: 'ms',
    ...nodeAlone,
  });
} finally {
  rmSync(work, { recursive: true, force: true });
}
