/**
 * Test fixture: starts Debian's TangoTest device server without a database on a free loopback
 * port, waits until it answers, and stops it.
 * @module
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import net from 'node:net';

/** Path of the TangoTest binary (Debian package `tango-test`). */
export const TANGO_TEST_BIN = '/usr/lib/tango/TangoTest';

/** True when TangoTest is installed; else prints why tests are skipped. */
export function tangoTestAvailable(): boolean {
  if (existsSync(TANGO_TEST_BIN)) return true;
  console.log(`    skipping: ${TANGO_TEST_BIN} is missing (install the Debian package tango-test)`);
  return false;
}

/** A free TCP port on 127.0.0.1. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/** A running TangoTest server. */
export class TangoTestServer {
  readonly port: number;
  #proc: ChildProcess | undefined;
  #log = '';

  constructor(port: number) {
    this.port = port;
  }

  /** Device URL (`#dbase=no`). */
  get url(): string {
    return `tango://127.0.0.1:${this.port}/sys/tg_test/1#dbase=no`;
  }

  /** Process id of the server. */
  get pid(): number {
    return this.#proc?.pid ?? -1;
  }

  /** Starts a server on a free port (or `port`) and waits until it accepts requests. */
  static async start(port?: number): Promise<TangoTestServer> {
    const s = new TangoTestServer(port ?? (await freePort()));
    await s.restart();
    return s;
  }

  /** (Re)starts the process on the same port. */
  async restart(): Promise<void> {
    await this.stop();
    this.#log = '';
    const proc = spawn(
      TANGO_TEST_BIN,
      ['test', '-ORBendPoint', `giop:tcp:127.0.0.1:${this.port}`, '-nodb', '-dlist', 'sys/tg_test/1'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.#proc = proc;
    const ready = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`TangoTest did not start: ${this.#log}`)), 15000);
      const onData = (d: Buffer): void => {
        this.#log += d.toString();
        if (this.#log.includes('Ready to accept request')) {
          clearTimeout(timer);
          resolve();
        }
      };
      proc.stdout!.on('data', onData);
      proc.stderr!.on('data', onData);
      proc.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`TangoTest exited (${code}): ${this.#log}`));
      });
    });
    await ready;
  }

  /** Sends a signal to the server process. */
  signal(sig: NodeJS.Signals): void {
    this.#proc?.kill(sig);
  }

  /** Stops the process with SIGSTOP and waits until the kernel reports it stopped. */
  async pause(): Promise<void> {
    this.signal('SIGSTOP');
    for (let i = 0; i < 200; i++) {
      const stat = await readFile(`/proc/${this.pid}/stat`, 'utf8').catch(() => '');
      if (/^\d+ \(.*\) [Tt] /.test(stat)) return;
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error('TangoTest did not stop');
  }

  /** Kills the server (SIGCONT first, in case it was stopped) and waits for it to exit. */
  async stop(): Promise<void> {
    const proc = this.#proc;
    this.#proc = undefined;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    proc.kill('SIGCONT');
    proc.kill('SIGKILL');
    await exited;
  }
}
