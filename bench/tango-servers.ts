/**
 * Tango server processes for the Tango benchmarks: Debian's TangoTest (C++), started without a
 * database on a loopback port and stopped by pid.
 * @module
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
export { freePort } from '../transport/zmq/endpoints.js';

/** Path of the TangoTest binary (Debian package `tango-test`). */
export const TANGO_TEST = '/usr/lib/tango/TangoTest';

/** A server process the bench started. */
export interface BenchServer {
  readonly port: number;
  readonly url: string;
  readonly pid: number;
  stop(): Promise<void>;
}

/** Waits until `proc` prints `ready` (on stdout or stderr); rejects when it exits first. */
export function waitForOutput(proc: ChildProcess, ready: string, what: string, timeoutMs = 20000): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let log = '';
    const timer = setTimeout(
      () => reject(new Error(`${what} did not start within ${timeoutMs} ms: ${log}`)),
      timeoutMs,
    );
    const onData = (d: Buffer): void => {
      log += d.toString();
      if (log.includes(ready)) {
        clearTimeout(timer);
        resolve();
      }
    };
    proc.stdout?.on('data', onData);
    proc.stderr?.on('data', onData);
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited (${code}): ${log}`));
    });
  });
}

/** Kills a process the bench started and waits for it to exit. */
export async function stopProcess(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  proc.kill('SIGKILL');
  await exited;
}

/** Starts TangoTest on `port`; a string says why it cannot run here. */
export async function startTangoTest(port: number): Promise<BenchServer | string> {
  if (!existsSync(TANGO_TEST)) return `${TANGO_TEST} is missing (install tango-test)`;
  const proc = spawn(
    TANGO_TEST,
    ['test', '-ORBendPoint', `giop:tcp:127.0.0.1:${port}`, '-nodb', '-dlist', 'sys/tg_test/1'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  try {
    await waitForOutput(proc, 'Ready to accept request', 'TangoTest');
  } catch (e) {
    await stopProcess(proc);
    throw e;
  }
  return {
    port,
    url: `tango://127.0.0.1:${port}/sys/tg_test/1#dbase=no`,
    pid: proc.pid!,
    stop: () => stopProcess(proc),
  };
}
