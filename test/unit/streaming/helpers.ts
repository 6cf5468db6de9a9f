/** Shared helpers of the streaming tests: temp dirs, producers, set files read with Debian's sqlite3. */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { makeFrame, type Frame } from '../../../core/frame.js';
import { delay, within } from '../../support/async.js';

export { useTempDir } from '../walkers/formats/helpers.js';

/** A producer of `0, 1, …, n-1`, one every `everyMs` (0: as fast as pulled). */
export function numbers(n: number, everyMs = 0): (signal: AbortSignal) => AsyncGenerator<number> {
  return async function* (signal) {
    for (let i = 0; i < n && !signal.aborted; i++) {
      if (everyMs > 0) await delay(everyMs);
      yield i;
    }
  };
}

/** A small uint16 frame whose pixels are all `value`. */
export function flatFrame(value: number, size = 8, frameNumber = 0): Frame {
  return makeFrame(new Uint16Array(size * size).fill(value), [size, size], { frameNumber });
}

/** Runs a query with Debian's `sqlite3` CLI (another process) and returns its rows, `|`-separated. */
export function sqlite3(file: string, query: string): string[][] {
  const out = execFileSync('sqlite3', ['-readonly', '-cmd', '.timeout 5000', file, query], {
    encoding: 'utf8',
    timeout: 10_000,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return out
    .trim()
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => l.split('|'));
}

/** Resolves once `condition()` is true (checked every `everyMs`), or rejects after `timeoutMs`. */
export async function until(
  condition: () => boolean | Promise<boolean>,
  timeoutMs = 10_000,
  what = 'condition',
  everyMs = 10,
): Promise<void> {
  const t0 = performance.now();
  while (!(await condition())) {
    if (performance.now() - t0 > timeoutMs) throw new Error(`${what} not met within ${timeoutMs} ms`);
    await delay(everyMs);
  }
}

const DETECTOR = fileURLToPath(new URL('./fixtures/detector.ts', import.meta.url));

/** Starts the detector simulation; resolves once it is about to write its first file. */
export async function startDetector(dir: string, args: string[]): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', DETECTOR, dir, ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    await within(
      30_000,
      new Promise<void>((resolve, reject) => {
        child.stdout!.on('data', (chunk: Buffer) => chunk.toString().includes('ready') && resolve());
        child.once('exit', (code) => reject(new Error(`the detector exited with code ${code} before it was ready`)));
      }),
      'the detector starting',
    );
  } catch (error) {
    await stopProcess(child);
    throw error;
  }
  return child;
}

/** Kills `child` (by pid, SIGKILL) if it still runs, and resolves once it has exited. */
export async function stopProcess(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}
