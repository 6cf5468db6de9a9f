/**
 * Test fixtures: PyTango device servers run by Debian's `/usr/bin/python3` without a database on
 * a free loopback port — `fixtures/push_server.py` (a device `test/push/1` that pushes change
 * events and has enum, DevState and DevEncoded attributes) and any other server script
 * ({@link PyTangoServer.start}).
 * @module
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { freePort } from './tango-test-server.js';

const PUSH_SERVER = fileURLToPath(new URL('./fixtures/push_server.py', import.meta.url));
const RING_SERVER = fileURLToPath(new URL('./fixtures/ring_server.py', import.meta.url));

/** True when `/usr/bin/python3` can import PyTango; else prints why tests are skipped. */
export function pyTangoAvailable(): boolean {
  const r = spawnSync('/usr/bin/python3', ['-c', 'import tango'], { timeout: 10000 });
  if (r.status === 0) return true;
  const why = (r.error?.message ?? r.stderr?.toString().trim().split('\n').pop()) || `exit code ${r.status}`;
  console.log(
    `    skipping: /usr/bin/python3 cannot import tango (${why}); install python3-tango for the PyTango test servers`,
  );
  return false;
}

/** A running PyTango device server. */
export class PyTangoServer {
  readonly port: number;
  readonly #script: string;
  readonly #dlist: readonly string[];
  readonly #timeoutMs: number;
  #proc: ChildProcess | undefined;

  protected constructor(port: number, script: string, dlist: readonly string[], timeoutMs: number) {
    this.port = port;
    this.#script = script;
    this.#dlist = dlist;
    this.#timeoutMs = timeoutMs;
  }

  /** Address of one of its devices (`#dbase=no`). */
  url(device: string): string {
    return `tango://127.0.0.1:${this.port}/${device}#dbase=no`;
  }

  /** Process id of the server (-1 when stopped). */
  get pid(): number {
    return this.#proc?.pid ?? -1;
  }

  /**
   * Starts `script` on a free port with the devices `dlist` (`Class::domain/family/member` for
   * servers with several classes) and waits until it accepts requests.
   */
  static async start(script: string, dlist: readonly string[], timeoutMs = 20000): Promise<PyTangoServer> {
    const server = new PyTangoServer(await freePort(), script, dlist, timeoutMs);
    await server.restart();
    return server;
  }

  /** (Re)starts the server on the same port and waits until it accepts requests. */
  async restart(): Promise<void> {
    await this.stop();
    const proc = spawn(
      '/usr/bin/python3',
      [
        this.#script,
        'test',
        '-ORBendPoint',
        `giop:tcp:127.0.0.1:${this.port}`,
        '-nodb',
        '-dlist',
        this.#dlist.join(','),
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.#proc = proc;
    let log = '';
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${this.#script} did not start: ${log}`)), this.#timeoutMs);
        const onData = (d: Buffer): void => {
          log += d.toString();
          if (log.includes('Ready to accept request')) {
            clearTimeout(timer);
            resolve();
          }
        };
        proc.stdout!.on('data', onData);
        proc.stderr!.on('data', onData);
        proc.once('exit', (c) => {
          clearTimeout(timer);
          reject(new Error(`${this.#script} exited (${c}): ${log}`));
        });
      });
    } catch (e) {
      await this.stop();
      throw e;
    }
  }

  /** Kills the server and waits for it to exit. */
  async stop(): Promise<void> {
    const proc = this.#proc;
    this.#proc = undefined;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise((r) => proc.once('exit', r));
    proc.kill('SIGKILL');
    await exited;
  }
}

/** A running push server (device `test/push/1`). */
export class PushServer {
  readonly url: string;
  readonly #server: PyTangoServer;

  private constructor(server: PyTangoServer) {
    this.#server = server;
    this.url = server.url('test/push/1');
  }

  /** Starts the server on a free port and waits until it accepts requests. */
  static async start(): Promise<PushServer> {
    return new PushServer(await PyTangoServer.start(PUSH_SERVER, ['test/push/1']));
  }

  /** Kills the server and starts it again on the same port. */
  restart(): Promise<void> {
    return this.#server.restart();
  }

  /** Kills the server and waits for it to exit. */
  stop(): Promise<void> {
    return this.#server.stop();
  }
}

/** A running ring server (device `test/ring/1`: attribute `current` in mA with change events, command `SetCurrent`). */
export class RingServer {
  readonly url: string;
  readonly #server: PyTangoServer;

  private constructor(server: PyTangoServer) {
    this.#server = server;
    this.url = server.url('test/ring/1');
  }

  /** Starts the server on a free port and waits until it accepts requests. */
  static async start(): Promise<RingServer> {
    return new RingServer(await PyTangoServer.start(RING_SERVER, ['test/ring/1']));
  }

  /** Kills the server and waits for it to exit. */
  stop(): Promise<void> {
    return this.#server.stop();
  }
}
