/**
 * Start-up of `concert start` (issue 4's bench): median wall time of
 * `concert start demo --non-interactive` (the demo has 10 devices) over 5 runs, and the time to
 * the first prompt of an interactive start (measured in a tmux pty, and as reported by the
 * process itself). Python Concert 0.34 on this kind of machine: 741 ms and 750 ms; target ≤ 370 ms.
 *
 *   npx tsx bench/session.ts [runs]
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../', import.meta.url));
const bin = join(root, 'bin', 'concert');
const runs = Number(process.argv[2] ?? 5);
const home = mkdtempSync(join(tmpdir(), 'concert-bench-'));
const env = { ...process.env, XDG_DATA_HOME: home };

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

const haveTime = spawnSync('/usr/bin/time', ['-f', '%U', 'true']).status === 0;
/** CPU time (user + sys, ms) of the last {@link wall} run: less sensitive to a busy machine than wall time. */
let lastCpu = NaN;

function wall(args: string[], extraEnv: NodeJS.ProcessEnv = {}, command = process.execPath): number {
  const argv = haveTime ? ['-f', '@@cpu %U %S', command, ...args] : args;
  const t0 = performance.now();
  const r = spawnSync(haveTime ? '/usr/bin/time' : command, argv, {
    env: { ...env, ...extraEnv },
    cwd: root,
    encoding: 'utf8',
  });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  const cpu = /@@cpu ([\d.]+) ([\d.]+)/.exec(r.stderr);
  lastCpu = cpu ? (Number(cpu[1]) + Number(cpu[2])) * 1000 : NaN;
  return ms;
}

function series(label: string, fn: () => number): number[] {
  fn(); // warm-up (fills the transpile cache and the page cache)
  const xs: number[] = [];
  const cpus: number[] = [];
  for (let i = 0; i < runs; i++) {
    xs.push(fn());
    cpus.push(lastCpu);
  }
  const cpu = cpus.every(Number.isFinite) ? `  cpu median ${median(cpus).toFixed(0).padStart(5)} ms` : '';
  console.log(
    `${label.padEnd(52)} median ${median(xs).toFixed(0).padStart(5)} ms  min ${Math.min(...xs)
      .toFixed(0)
      .padStart(5)} ms${cpu}  (${xs.map((x) => x.toFixed(0)).join(', ')})`,
  );
  return xs;
}

function firstPrompt(): { wall: number; reported: number } | undefined {
  if (spawnSync('sh', ['-c', 'command -v tmux']).status !== 0) return undefined;
  const socket = `concert-bench-${process.pid}`;
  const tmux = (...a: string[]) => execFileSync('tmux', ['-L', socket, ...a], { encoding: 'utf8' });
  try {
    tmux('new-session', '-d', '-x', '200', '-y', '50', '-s', 'b', 'sleep 60');
    const command =
      `clear; cd ${root} && XDG_DATA_HOME=${home} CONCERT_STARTUP_TIMING=1 ${process.execPath} ${bin} start demo ` +
      `2>/tmp/concert-bench-${process.pid}.err`;
    tmux('respawn-pane', '-k', '-t', 'b', `sh -c '${command}; sleep 60'`);
    const t0 = performance.now();
    for (;;) {
      const screen = tmux('capture-pane', '-p', '-t', 'b');
      if (/^demo > ?$/m.test(screen)) break;
      if (performance.now() - t0 > 20_000)
        throw new Error(
          `no prompt:\n${screen.trim()}\n${execFileSync('cat', [`/tmp/concert-bench-${process.pid}.err`], { encoding: 'utf8' })}`,
        );
    }
    const ms = performance.now() - t0;
    const err = execFileSync('cat', [`/tmp/concert-bench-${process.pid}.err`], { encoding: 'utf8' });
    const reported = Number(/first prompt after (\d+) ms/.exec(err)?.[1] ?? NaN);
    return { wall: ms, reported };
  } finally {
    try {
      tmux('kill-server');
    } catch {
      // gone
    }
    rmSync(join(process.env.TMUX_TMPDIR || '/tmp', `tmux-${process.getuid?.() ?? 0}`, socket), { force: true });
    rmSync(`/tmp/concert-bench-${process.pid}.err`, { force: true });
    // The session releases its lock when it ends (SIGHUP from tmux); wait for that.
    const lock = join(home, 'concert', '.demo.lock');
    for (let i = 0; i < 200 && existsSync(lock); i++) spawnSync('sleep', ['0.01']);
  }
}

try {
  console.log(
    `concert start-up, ${runs} runs each (demo session: 10 dummy devices); Python Concert: 741 ms / 750 ms, target ≤ 370 ms`,
  );
  series('node -e 0 (baseline)', () => wall(['-e', '0']));
  series('concert --version', () => wall([bin, '--version']));
  series('concert start demo --non-interactive', () => wall([bin, 'start', 'demo', '--non-interactive']));
  series('  same, tsx fallback loader (CONCERT_LOADER=tsx)', () =>
    wall([bin, 'start', 'demo', '--non-interactive'], { CONCERT_LOADER: 'tsx' }),
  );
  const prompts: Array<{ wall: number; reported: number }> = [];
  firstPrompt();
  for (let i = 0; i < runs; i++) {
    const p = firstPrompt();
    if (!p) {
      console.log('time to first prompt: skipped (tmux is not installed)');
      break;
    }
    prompts.push(p);
  }
  if (prompts.length) {
    const w = prompts.map((p) => p.wall);
    const r = prompts.map((p) => p.reported);
    console.log(
      `${'interactive start to first prompt (tmux, wall)'.padEnd(52)} median ${median(w).toFixed(0).padStart(5)} ms  min ${Math.min(
        ...w,
      )
        .toFixed(0)
        .padStart(5)} ms  (${w.map((x) => x.toFixed(0)).join(', ')})`,
    );
    console.log(
      `${'  as the process reports it (since node started)'.padEnd(52)} median ${median(r).toFixed(0).padStart(5)} ms  min ${Math.min(
        ...r,
      )
        .toFixed(0)
        .padStart(5)} ms`,
    );
  }
  console.log(
    `load average: ${(await import('node:os'))
      .loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')} (shared machine: compare figures from the same run)`,
  );
} finally {
  rmSync(home, { recursive: true, force: true });
}
