/**
 * Test fixture: starts `fixtures/push_server.py` (a PyTango device `test/push/1` that pushes
 * change events and has enum, DevState and DevEncoded attributes) without a database.
 * @module
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { freePort } from './tango-test-server.js';

const PUSH_SERVER = fileURLToPath(new URL('./fixtures/push_server.py', import.meta.url));

/** True when `/usr/bin/python3` can import PyTango; else prints why tests are skipped. */
export function pyTangoAvailable(): boolean {
  const r = spawnSync('/usr/bin/python3', ['-c', 'import tango'], { timeout: 10000 });
  if (r.status === 0) return true;
  console.log('    skipping: /usr/bin/python3 cannot import tango (install python3-tango) for the PyTango test server');
  return false;
}

/** A running push server. */
export class PushServer {
  readonly url: string;
  #proc: ChildProcess;

  private constructor(url: string, proc: ChildProcess) {
    this.url = url;
    this.#proc = proc;
  }

  /** Starts the server on a free port and waits until it accepts requests. */
  static async start(): Promise<PushServer> {
    const port = await freePort();
    const proc = spawn('/usr/bin/python3', [PUSH_SERVER, 'test', '-ORBendPoint', `giop:tcp:127.0.0.1:${port}`, '-nodb', '-dlist', 'test/push/1'],
      { stdio: ['ignore', 'pipe', 'pipe'] });
    const server = new PushServer(`tango://127.0.0.1:${port}/test/push/1#dbase=no`, proc);
    let log = '';
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`push server did not start: ${log}`)), 20000);
        const onData = (d: Buffer): void => { log += d.toString(); if (log.includes('Ready to accept request')) { clearTimeout(timer); resolve(); } };
        proc.stdout!.on('data', onData);
        proc.stderr!.on('data', onData);
        proc.once('exit', (c) => { clearTimeout(timer); reject(new Error(`push server exited (${c}): ${log}`)); });
      });
    } catch (e) {
      await server.stop();
      throw e;
    }
    return server;
  }

  /** Kills the server and waits for it to exit. */
  async stop(): Promise<void> {
    const proc = this.#proc;
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise((r) => proc.once('exit', r));
    proc.kill('SIGKILL');
    await exited;
  }
}
