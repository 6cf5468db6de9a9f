/** `concert record` as a child process for tests: resolves `ready` once it is connected and recording. */
import { spawn } from 'node:child_process';
import { concertBin, root } from '../support.js';

/** A running `concert record`. */
export interface RecordProcess {
  /** Resolves when it printed `recording … to …` (connected, first segment open). */
  ready: Promise<void>;
  /** Resolves when it exited, with its status and output. */
  done: Promise<{ status: number | null; stdout: string; stderr: string }>;
  kill(): void;
}

/** Starts `concert record ...args`. */
export function startRecord(args: string[], timeoutMs = 60_000): RecordProcess {
  const child = spawn(process.execPath, [concertBin, 'record', ...args], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  let onReady!: () => void;
  const ready = new Promise<void>((resolve) => (onReady = resolve));
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    stdout += d;
    if (/^recording .* to /m.test(stdout)) onReady();
  });
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const done = new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) =>
    child.on('close', (status) => {
      clearTimeout(timer);
      onReady();
      resolve({ status, stdout, stderr });
    }),
  );
  return { ready, done, kill: () => child.kill('SIGKILL') };
}
