/**
 * Python Concert as the reference of the benchmarks, measured in the same run: its benchmark
 * scripts (`../shared/anchors/python-concert/bench_*.py`) run through `bench/python/concert_anchor.py`,
 * in the venv that the anchors' `setup.sh` makes (installed on first use; `CONCERT_VENV` as
 * there). Where something is missing, {@link runAnchor} says what instead of a figure.
 * @module
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const DRIVER = join(root, 'bench', 'python', 'concert_anchor.py');

/** `../shared/anchors/python-concert` beside the repository (or beside the folder of its worktrees). */
export function anchorsDirectory(): string | undefined {
  const candidates = [
    process.env.CONCERT_SHARED,
    resolve(root, '..', 'shared'),
    resolve(root, '..', '..', 'shared'),
  ].filter((d): d is string => d !== undefined);
  return candidates.map((d) => join(d, 'anchors', 'python-concert')).find((d) => existsSync(join(d, 'setup.sh')));
}

let ready: { python: string; anchors: string } | { missing: string } | undefined;

/** The venv's python and the anchors, installing them with `setup.sh` if needed (once per process). */
export function concertPython(): { python: string; anchors: string } | { missing: string } {
  if (ready) return ready;
  const anchors = anchorsDirectory();
  if (!anchors) return (ready = { missing: 'Python Concert anchors not found (../shared/anchors/python-concert)' });
  const venv = process.env.CONCERT_VENV ?? '/tmp/concert-venv';
  const python = join(venv, 'bin', 'python');
  const concert = join(venv, 'bin', 'concert');
  if (!existsSync(python) || !existsSync(concert)) {
    console.log(`installing Python Concert for the references (${anchors}/setup.sh) …`);
    const r = spawnSync(join(anchors, 'setup.sh'), [], { stdio: ['ignore', 'inherit', 'inherit'], timeout: 600_000 });
    if (r.status !== 0 || !existsSync(python))
      return (ready = { missing: `Python Concert setup failed (${anchors}/setup.sh exit ${r.status ?? r.signal})` });
  }
  return (ready = { python, anchors });
}

/**
 * Runs one anchor measurement (see `bench/python/concert_anchor.py`) and returns its JSON result,
 * or `{ missing: why }`.
 */
export function runAnchor(args: string[], timeoutMs = 180_000): Promise<Record<string, number> | { missing: string }> {
  const env = concertPython();
  if ('missing' in env) return Promise.resolve(env);
  return new Promise((resolvePromise) => {
    const child = spawn(env.python, [DRIVER, ...args], {
      env: { ...process.env, CONCERT_ANCHORS: env.anchors },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      const line = out.trim().split('\n').pop() ?? '';
      try {
        const result = JSON.parse(line) as Record<string, number> | { missing: string };
        if (code === 0 || 'missing' in result) return resolvePromise(result);
      } catch {
        // not JSON: report below
      }
      resolvePromise({
        missing: `Python Concert ${args[0]} failed (exit ${code}): ${(err.trim().split('\n').pop() ?? '').slice(0, 160)}`,
      });
    });
  });
}
