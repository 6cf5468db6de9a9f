/**
 * Remote control only for known clients: a ZAP handler (ZeroMQ RFC 27) that lets a CURVE server
 * socket accept only clients whose public key is in its allow-list — a directory of `*.key`
 * files (one Z85 public key each), re-read when it changes.
 *
 * ZAP is per process: one handler, bound to `inproc://zeromq.zap.01`, answers for every CURVE
 * server socket of the process; each socket names its allow-list by its ZAP domain. A socket
 * without an allow-list (domain not registered here) accepts every client that knows its key,
 * as before. A refusal is logged with the client's key and address; the client sees a
 * `handshake:error:auth` event (see {@link watchAuthFailures}) and reports it instead of timing out.
 *
 * Revoking a key (deleting its file) drops the connections of the sockets using that list (they
 * unbind and bind their endpoints again), so every client passes the check again and the revoked
 * one is refused at once.
 * @module
 */
import { watch, type FSWatcher } from 'node:fs';
import { mkdir, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Router, Socket } from 'zeromq';
import { Logger, errorMessage, sleep, startTimer, type Timer } from '../../core/index.js';
import { TransportError } from './errors.js';
import { zeromq } from './zeromq.js';

const Z85 = '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#';
const Z85_KEY = /^[0-9a-zA-Z.\-:+=^!/*?&<>()[\]{}@%$#]{40}$/;

/** Z85 text of a 32-byte CURVE key (ZeroMQ RFC 32). */
export function z85Encode(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i + 4 <= bytes.length; i += 4) {
    let v = ((bytes[i]! << 24) >>> 0) + (bytes[i + 1]! << 16) + (bytes[i + 2]! << 8) + bytes[i + 3]!;
    let chunk = '';
    for (let j = 0; j < 5; j++) {
      chunk = Z85[v % 85]! + chunk;
      v = Math.floor(v / 85);
    }
    out += chunk;
  }
  return out;
}

/** True for a 40-character Z85 key. */
export function isZ85Key(text: string): boolean {
  return Z85_KEY.test(text);
}

/** A server's ZAP handler refused this client's CURVE key (it is not in the server's allow-list). */
export class RefusedError extends TransportError {
  override name = 'RefusedError';
}

/** A refusal, as logged and counted. */
export interface Refusal {
  readonly server: string;
  readonly key: string;
  readonly address: string;
  readonly time: string;
}

/**
 * The public keys a server accepts: every `*.key` file of `dir` (re-read when the directory
 * changes; `*.key_secret` files and unreadable or malformed files are ignored, with a warning).
 * @example
 * ```ts
 * const allow = await AllowList.open('/etc/concert/keys/authorized', 'writer server');
 * const server = await ControlServer.create({ bind, curve: { ...await curveServerOptions(dir), allow } });
 * ```
 */
export class AllowList {
  readonly log: Logger;
  /** The ZAP domain of the sockets using this list. */
  readonly domain: string;
  #keys = new Map<string, string>();
  #watcher: FSWatcher | undefined;
  #debounce: Timer | undefined;
  #closed = false;
  #reloading: Promise<void> = Promise.resolve();
  readonly #refusals: Refusal[] = [];
  readonly #revoked = new Set<(keys: string[]) => Promise<void> | void>();
  /** Client addresses accepted without CURVE (the NULL mechanism, e.g. PyTango event subscribers). */
  #addresses = new Set<string>();
  static #next = 0;

  private constructor(
    readonly dir: string,
    /** Names the server in logs and refusals (`writer server tcp://127.0.0.1:5555`). */ readonly server: string,
  ) {
    this.domain = `concert-${process.pid}-${AllowList.#next++}`;
    this.log = new Logger(server);
  }

  /**
   * An allow-list of client addresses (IP addresses, as ZeroMQ reports them) for sockets without
   * CURVE: clients that cannot do CURVE (standard Tango clients subscribing to events) are
   * accepted from these addresses only; every other connection is refused and logged.
   * @example
   * ```ts
   * const allow = await AllowList.addresses(['127.0.0.1', '10.0.0.7'], 'walker Tango server events');
   * ```
   */
  static async addresses(addresses: readonly string[], server: string): Promise<AllowList> {
    const list = new AllowList('', server);
    list.setAddresses(addresses);
    await ZapHandler.register(list);
    return list;
  }

  /** The client addresses accepted without CURVE. */
  get acceptedAddresses(): ReadonlySet<string> {
    return this.#addresses;
  }

  /** Replaces the addresses accepted without CURVE. */
  setAddresses(addresses: readonly string[]): void {
    this.#addresses = new Set(addresses.map((a) => a.trim()).filter((a) => a.length > 0));
  }

  /** Answers one ZAP request of a client without CURVE (NULL mechanism). @internal */
  checkAddress(address: string): boolean {
    if (this.#addresses.has(address)) return true;
    const refusal = { server: this.server, key: '', address, time: new Date().toISOString() };
    this.#refusals.push(refusal);
    if (this.#refusals.length > 100) this.#refusals.shift();
    this.log.warn(
      `refused a client at ${address || '?'}: its address is not among the allowed ones ` +
        `(${[...this.#addresses].join(', ') || 'none'})`,
    );
    return false;
  }

  /**
   * Reads `dir` (created if missing) and watches it; registers the list with the process's ZAP
   * handler, which it starts if needed.
   * @throws TransportError if `dir` cannot be read.
   */
  static async open(dir: string, server: string): Promise<AllowList> {
    const list = new AllowList(dir, server);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await list.reload();
    list.#watcher = watch(dir, () => list.#scheduleReload());
    list.#watcher.on('error', () => undefined);
    await ZapHandler.register(list);
    return list;
  }

  /** The accepted keys, by file name (without `.key`). */
  get keys(): ReadonlyMap<string, string> {
    return this.#keys;
  }

  /** Refusals so far (the latest 100). */
  get refusals(): readonly Refusal[] {
    return this.#refusals;
  }

  /** True if `key` (Z85) is accepted. */
  accepts(key: string): boolean {
    for (const k of this.#keys.values()) if (k === key) return true;
    return false;
  }

  /**
   * Rebinds `endpoint` of `socket` whenever this list revokes a key (see {@link rebindOnRevoke}):
   * for sockets of other floors (the Tango servers' event sockets).
   */
  rebindOnRevoke(socket: Socket, endpoint: string): void {
    rebindOnRevoke(socket, endpoint, this);
  }

  /** Calls `fn` with the keys revoked whenever a reload drops some. @internal */
  onRevoke(fn: (keys: string[]) => Promise<void> | void): () => void {
    this.#revoked.add(fn);
    return () => this.#revoked.delete(fn);
  }

  /**
   * Reads the directory again (done by itself when it changes). Reloads run one at a time: a
   * watcher's reload overlapping an explicit one would otherwise rebind the server's sockets
   * twice at once, and the second unbind would find the endpoint not yet bound again.
   */
  reload(): Promise<void> {
    const run = this.#reloading.then(() => this.#reload());
    this.#reloading = run.catch(() => undefined);
    return run;
  }

  async #reload(): Promise<void> {
    if (this.dir === '') return; // an address list has no key directory
    let names: string[];
    try {
      names = (await readdir(this.dir)).filter((n) => n.endsWith('.key'));
    } catch (error) {
      throw new TransportError(
        `${this.server}: cannot read the authorized keys in ${this.dir}: ${errorMessage(error)}`,
        undefined,
        {
          cause: error,
        },
      );
    }
    const keys = new Map<string, string>();
    for (const name of names.sort()) {
      try {
        const text = (await readFile(join(this.dir, name), 'utf8')).trim();
        if (isZ85Key(text)) keys.set(name.slice(0, -'.key'.length), text);
        else this.log.warn(`${join(this.dir, name)} does not hold a 40-character Z85 public key; ignored`);
      } catch {
        // removed between readdir and readFile
      }
    }
    const before = new Set(this.#keys.values());
    this.#keys = keys;
    const now = new Set(keys.values());
    const revoked = [...before].filter((k) => !now.has(k));
    if (revoked.length > 0) {
      this.log.info(`revoked ${revoked.length} key(s): ${revoked.join(', ')}; dropping their connections`);
      for (const fn of this.#revoked) await fn(revoked);
    }
  }

  #scheduleReload(): void {
    if (this.#closed) return;
    this.#debounce?.cancel();
    this.#debounce = startTimer(50, () => {
      this.reload().catch((error: unknown) => this.log.warn(errorMessage(error)));
    }).unref();
  }

  /** Answers one ZAP request for this domain. @internal */
  check(key: string, address: string): boolean {
    if (this.accepts(key)) return true;
    const refusal = { server: this.server, key, address, time: new Date().toISOString() };
    this.#refusals.push(refusal);
    if (this.#refusals.length > 100) this.#refusals.shift();
    this.log.warn(
      `refused a client at ${address || '?'} with CURVE key ${key}: not in ${this.dir} ` +
        `(authorize it with: concert keys authorize ${key} --dir ${this.dir})`,
    );
    return false;
  }

  /** Stops watching and leaves the ZAP handler (its sockets then refuse every client). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#debounce?.cancel();
    this.#watcher?.close();
    this.#keys = new Map();
    ZapHandler.unregister(this);
  }
}

/** The process's ZAP handler: a ROUTER on `inproc://zeromq.zap.01`. */
class ZapHandler {
  static #starting: Promise<void> | undefined;
  static readonly #lists = new Map<string, AllowList>();
  static readonly #closedDomains = new Set<string>();

  static async register(list: AllowList): Promise<void> {
    this.#lists.set(list.domain, list);
    this.#starting ??= this.#start();
    await this.#starting;
  }

  static unregister(list: AllowList): void {
    this.#lists.delete(list.domain);
    this.#closedDomains.add(list.domain);
  }

  static async #start(): Promise<void> {
    const socket = new (zeromq().Router)({ linger: 0 });
    await socket.bind('inproc://zeromq.zap.01');
    void this.#serve(socket);
  }

  static async #serve(socket: Router): Promise<void> {
    for (;;) {
      let request: Buffer[];
      try {
        request = await socket.receive();
      } catch {
        return;
      }
      // [routing id, empty, version, request id, domain, address, identity, mechanism, ...credentials]
      const [route, empty, version, id, domain, address, , mechanism, ...credentials] = request;
      if (!route || !empty || !version || !id) continue;
      const name = domain?.toString() ?? '';
      const list = this.#lists.get(name);
      let status: [string, string] = ['200', 'OK'];
      if (list) {
        const kind = mechanism?.toString();
        const key = kind === 'CURVE' && credentials[0] ? z85Encode(credentials[0]) : '';
        if (kind === 'NULL' && list.acceptedAddresses.size > 0) {
          if (!list.checkAddress(address?.toString() ?? ''))
            status = ['400', `client address not allowed by ${list.server}`];
        } else if (!key) status = ['400', 'CURVE required'];
        else if (!list.check(key, address?.toString() ?? ''))
          status = ['400', `client key not authorized by ${list.server}`];
      } else if (this.#closedDomains.has(name)) status = ['400', 'server closed'];
      try {
        await socket.send([route, empty, version, id, status[0], status[1], '', '']);
      } catch {
        return;
      }
    }
  }
}

/**
 * Rebinds `endpoint` of `socket` whenever `allow` revokes a key: the revoked client's connection
 * is dropped, and every client passes the allow-list again when it reconnects.
 *
 * Rebinds run through {@link afterEachRevocation}: spaced by at least {@link REBIND_SPACING_MS},
 * revocations meanwhile taken by the next one (one rebind drops every revoked connection). An
 * unbind with clients connected can make libzmq 4.3.5 abort the process (an assertion in
 * pipe.cpp: seen after 200 revocations in a row, and after a single one under load), which is why
 * `ControlServer` renews its socket instead; the sockets that still rebind here are data and
 * event sockets. @internal
 */
export function rebindOnRevoke(socket: Socket, endpoint: string, allow: AllowList): void {
  afterEachRevocation(
    allow,
    () => socket.closed,
    async () => {
      try {
        await socket.unbind(endpoint);
        await bindAgain(socket, endpoint);
      } catch (error) {
        if (!socket.closed)
          allow.log.error(`cannot rebind ${endpoint} after revoking a key: ${errorMessage(error)}`, error);
      }
    },
  );
}

/**
 * Runs `fn` after `allow` revokes keys: one run at a time, at least {@link REBIND_SPACING_MS}
 * after the last one started, and a run that waits takes every revocation made meanwhile. Stops
 * once `closed()` answers true. @internal
 */
export function afterEachRevocation(allow: AllowList, closed: () => boolean, fn: () => Promise<void>): void {
  let lastAt = -Infinity;
  let chain = Promise.resolve();
  /** A run is scheduled and has not started: it takes every revocation until it starts. */
  let waiting = false;
  const run = async (): Promise<void> => {
    await sleep(Math.max(0, lastAt + REBIND_SPACING_MS - performance.now()));
    waiting = false;
    if (closed()) return void stop();
    lastAt = performance.now();
    await fn();
  };
  const stop = allow.onRevoke(() => {
    if (closed()) return stop();
    if (waiting) return;
    waiting = true;
    chain = chain.then(run, run); // one at a time: never an unbind while the last bind is still being retried
  });
}

/** The least time between two rebinds of one endpoint (see {@link rebindOnRevoke}). */
export const REBIND_SPACING_MS = 1000;

/** How long {@link bindAgain} keeps trying while the old listener is still being closed. */
const REBIND_DEADLINE_MS = 10_000;

/**
 * Binds `endpoint` again right after an unbind. ZeroMQ closes the old listener in its I/O thread,
 * so an immediate bind fails now and then with "Address already in use" (6 of 300 here); without
 * a retry the server would stop listening for every client. @internal
 */
export async function bindAgain(socket: Socket, endpoint: string): Promise<void> {
  const t0 = performance.now();
  for (let wait = 5; ; wait = Math.min(wait * 2, 200)) {
    try {
      await socket.bind(endpoint);
      return;
    } catch (error) {
      const inUse = /address already in use/i.test(errorMessage(error));
      if (!inUse || socket.closed || performance.now() - t0 > REBIND_DEADLINE_MS) throw error;
      await sleep(wait);
    }
  }
}

/**
 * Remembers the last CURVE authentication failure of a connecting socket (the server's ZAP
 * handler refused its key): `failure()` gives it until a handshake succeeds (ZeroMQ does not
 * reconnect a refused socket), so a request fails with it at once instead of timing out. @internal
 */
export function watchAuthFailures(
  socket: Socket,
  key: string,
  onFailure?: (error: RefusedError) => void,
): { failure(): RefusedError | undefined } {
  // ZeroMQ does not reconnect after a refused handshake: the refusal stands until one succeeds.
  let last: { error: RefusedError } | undefined;
  socket.events.on('handshake:error:auth', (event) => {
    const error = new RefusedError(
      `${event.address}: the server refused this client's CURVE key ${key}: it is not in the server's ` +
        `allow-list (on the server: concert keys authorize ${key} --dir <its authorized-keys directory>)`,
      event.address,
    );
    last = { error };
    onFailure?.(error);
  });
  socket.events.on('handshake', () => (last = undefined));
  return {
    failure: () => last?.error,
  };
}
