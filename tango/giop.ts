/**
 * GIOP 1.2 over TCP (IIOP), client side: one connection per server endpoint shared by all its
 * devices, requests multiplexed by request id (the requests of one turn of the event loop go out
 * in one write), per-call timeouts, fragment reassembly without copies, and reconnection on the
 * next call after the server went away.
 * @module
 */
import net from 'node:net';
import type { CdrReader } from './cdr.js';
import { TangoProtocolError, TangoTimeoutError, TangoTransportError } from './errors.js';
import { GiopFramer, readUlong } from './giop-framer.js';
import { MsgType, ReplyStatus, decodeReply, encodeRequest, type Body, type PreparedRequest } from './giop-messages.js';
import { errorMessage } from '../core/index.js';

export { MsgType, PreparedRequest, ReplyStatus, encodeReply, encodeRequest } from './giop-messages.js';
export { MAX_MESSAGE_SIZE } from './giop-framer.js';

/** Default per-call timeout in milliseconds. */
export const DEFAULT_TIMEOUT_MS = 3000;
/** Longest per-call timeout (what one Node timer can wait). */
export const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/** A CORBA user exception (for Tango: DevFailed / MultiDevFailed); `body` is positioned after the id. */
export class GiopUserException extends Error {
  override name = 'GiopUserException';
  constructor(
    readonly repoId: string,
    readonly body: CdrReader,
  ) {
    super(`CORBA user exception ${repoId}`);
  }
}

/** A CORBA system exception (e.g. `IDL:omg.org/CORBA/BAD_OPERATION:1.0`). */
export class GiopSystemException extends TangoTransportError {
  override name = 'GiopSystemException';
  constructor(
    device: string,
    endpoint: string,
    readonly repoId: string,
    readonly minor: number,
    readonly completed: number,
  ) {
    super(device, endpoint, `CORBA system exception ${repoId} (minor 0x${minor.toString(16)}, completed ${completed})`);
  }
}

/** Options of one call. */
export interface CallOptions {
  /** Timeout in ms for the whole call (connecting included). */
  readonly timeoutMs?: number;
  /** Device name, used in error messages. */
  readonly device?: string;
}

interface Pending {
  readonly id: number;
  readonly resolve: (r: CdrReader) => void;
  readonly reject: (e: Error) => void;
  /** `performance.now()` when the call times out. */
  readonly deadline: number;
  readonly operation: string;
  readonly timeoutMs: number;
  readonly device: string;
  readonly message: Uint8Array;
  resent: boolean;
}

const pool = new Map<string, GiopConnection>();

/** A GIOP connection to one server endpoint (`host:port`), shared by all proxies of that server. */
export class GiopConnection {
  readonly host: string;
  readonly port: number;
  #socket: net.Socket | undefined;
  #connecting: Promise<net.Socket> | undefined;
  #pending = new Map<number, Pending>();
  #nextId = 1;
  #users = 0;
  /** Requests waiting for the end of this turn of the event loop, to go out in one write. */
  #outbox: Uint8Array[] = [];
  #flushScheduled = false;
  /** One timer for all calls, set for the earliest deadline. */
  #timer: NodeJS.Timeout | undefined;
  #timerAt = Infinity;
  #lostListeners = new Set<(why: string) => void>();

  constructor(host: string, port: number) {
    this.host = host;
    this.port = port;
  }

  /** The shared connection for `host:port` (one per endpoint); call {@link release} when done. */
  static acquire(host: string, port: number): GiopConnection {
    const key = `${host}:${port}`;
    let c = pool.get(key);
    if (!c) {
      c = new GiopConnection(host, port);
      pool.set(key, c);
    }
    c.#users++;
    return c;
  }

  /** `host:port`. */
  get endpoint(): string {
    return `${this.host}:${this.port}`;
  }

  /** Calls waiting for their reply. */
  get pendingCalls(): number {
    return this.#pending.size;
  }

  /**
   * Calls `listener` whenever an open connection to the server goes away (the server stopped or
   * restarted, or sent garbage); not when it is closed here. Returns the function that removes it.
   */
  onLost(listener: (why: string) => void): () => void {
    this.#lostListeners.add(listener);
    return () => this.#lostListeners.delete(listener);
  }

  #notifyLost(why: string): void {
    for (const listener of [...this.#lostListeners]) listener(why);
  }

  /** Drops one user; the socket closes when none is left. */
  release(): void {
    if (--this.#users > 0) return;
    pool.delete(this.endpoint);
    this.close();
  }

  /** Closes the socket and fails pending calls. */
  close(): void {
    const s = this.#socket;
    this.#socket = undefined;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerAt = Infinity;
    this.#outbox = [];
    s?.destroy();
    this.#failAll((d) => new TangoTransportError(d, this.endpoint, 'connection closed'));
  }

  /**
   * Sends a request and resolves with a reader positioned at the reply body.
   * @throws GiopUserException, GiopSystemException, TangoTransportError, TangoTimeoutError,
   *   TangoProtocolError
   */
  call(objectKey: Uint8Array, operation: string, args?: Body, options: CallOptions = {}): Promise<CdrReader> {
    const id = this.#nextId;
    let message: Uint8Array;
    try {
      message = encodeRequest(id, objectKey, operation, args);
    } catch (e) {
      return Promise.reject(e as Error);
    }
    return this.#call(id, message, operation, options);
  }

  /** Like {@link call}, for a request encoded once ({@link PreparedRequest}). */
  callPrepared(request: PreparedRequest, options: CallOptions = {}): Promise<CdrReader> {
    const id = this.#nextId;
    return this.#call(id, request.message(id), request.operation, options);
  }

  #call(id: number, message: Uint8Array, operation: string, options: CallOptions): Promise<CdrReader> {
    const device = options.device ?? '';
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    if (!(timeoutMs > 0 && timeoutMs <= MAX_TIMEOUT_MS))
      return Promise.reject(
        new RangeError(`timeoutMs must be a number of ms in (0, ${MAX_TIMEOUT_MS}], got ${String(timeoutMs)}`),
      );
    this.#nextId = (id + 1) >>> 0 || 1;
    return new Promise<CdrReader>((resolve, reject) => {
      const deadline = performance.now() + timeoutMs;
      const p: Pending = { id, resolve, reject, deadline, operation, timeoutMs, device, message, resent: false };
      this.#pending.set(id, p);
      if (deadline < this.#timerAt) this.#armTimer(deadline);
      this.#send(p);
    });
  }

  /**
   * Sets the one timer for `at`. It is unref'd (the socket keeps the process alive while calls
   * are pending) and left running when the last call settles, so a busy connection arms about
   * one timer per timeout period instead of one per call.
   */
  #armTimer(at: number): void {
    clearTimeout(this.#timer);
    this.#timerAt = at;
    this.#timer = setTimeout(() => this.#expire(), Math.max(0, Math.ceil(at - performance.now())));
    this.#timer.unref();
  }

  /** Fails every call past its deadline and sets the timer for the next one. */
  #expire(): void {
    this.#timer = undefined;
    this.#timerAt = Infinity;
    const now = performance.now();
    let next = Infinity;
    for (const p of [...this.#pending.values()]) {
      if (p.deadline <= now + 1) {
        this.#settle(
          p.id,
          undefined,
          new TangoTimeoutError(p.device, this.endpoint, `${p.operation} timed out after ${p.timeoutMs} ms`),
        );
      } else if (p.deadline < next) next = p.deadline;
    }
    if (next < Infinity) this.#armTimer(next);
  }

  #send(p: Pending): void {
    const s = this.#socket;
    if (s && !s.destroyed && !this.#connecting) {
      this.#outbox.push(p.message);
      if (!this.#flushScheduled) {
        this.#flushScheduled = true;
        process.nextTick(() => this.#flush());
      }
      return;
    }
    this.#connect().then(
      () => {
        if (this.#pending.get(p.id) === p) this.#send(p);
      },
      (e: Error) =>
        this.#settle(
          p.id,
          undefined,
          new TangoTransportError(p.device, this.endpoint, `cannot connect: ${e.message}`, { cause: e }),
        ),
    );
  }

  /** Writes the requests of this turn in one go (a pipelined client pays one syscall, not one each). */
  #flush(): void {
    this.#flushScheduled = false;
    const out = this.#outbox;
    if (out.length === 0) return;
    this.#outbox = [];
    const s = this.#socket;
    if (!s || s.destroyed) return; // their calls fail through #onClose
    s.write(out.length === 1 ? out[0]! : Buffer.concat(out));
  }

  #settle(id: number, value: CdrReader | undefined, error?: Error): void {
    const p = this.#pending.get(id);
    if (!p) return; // timed out already, or unknown id
    this.#pending.delete(id);
    if (error) p.reject(error);
    else p.resolve(value!);
  }

  #failAll(make: (device: string) => Error): void {
    for (const p of [...this.#pending.values()]) this.#settle(p.id, undefined, make(p.device));
  }

  #connect(): Promise<net.Socket> {
    if (this.#socket && !this.#socket.destroyed) return Promise.resolve(this.#socket);
    if (this.#connecting) return this.#connecting;
    this.#connecting = new Promise<net.Socket>((resolve, reject) => {
      const framer = new GiopFramer(
        (msg) => {
          if (this.#socket === socket) this.#onMessage(socket, msg);
        },
        (why) => this.#protocolError(socket, why),
      );
      // Large reply bodies are read straight into their message buffer (see GiopFramer).
      const socket: net.Socket = net.connect({
        host: this.host,
        port: this.port,
        onread: {
          buffer: () => framer.nextBuffer(),
          callback: (n, buf) => {
            framer.consumed(n, buf);
            return true;
          },
        },
      });
      socket.setNoDelay(true);
      const onError = (e: Error): void => {
        this.#connecting = undefined;
        reject(e);
      };
      socket.once('error', onError);
      socket.once('connect', () => {
        socket.off('error', onError);
        this.#connecting = undefined;
        this.#socket = socket;
        socket.on('error', () => {
          /* 'close' follows */
        });
        socket.on('close', () => this.#onClose(socket));
        resolve(socket);
      });
    });
    return this.#connecting;
  }

  #onClose(s: net.Socket): void {
    if (this.#socket !== s) return;
    this.#socket = undefined;
    this.#failAll((d) => new TangoTransportError(d, this.endpoint, 'connection lost'));
    this.#notifyLost('connection lost');
  }

  #protocolError(s: net.Socket, why: string): void {
    const current = this.#socket === s;
    if (current) this.#socket = undefined;
    s.destroy();
    this.#failAll((d) => new TangoProtocolError(`${d ? `${d} ` : ''}at ${this.endpoint}: ${why}`));
    if (current) this.#notifyLost(why);
  }

  #onMessage(s: net.Socket, msg: Uint8Array): void {
    switch (msg[7]) {
      case MsgType.Reply: {
        if (msg.length < 16) return this.#protocolError(s, 'GIOP reply without a request id');
        const id = readUlong(msg, 12, (msg[6]! & 1) === 1);
        this.#onReply(id, msg);
        return;
      }
      case MsgType.CloseConnection: {
        // Orderly shutdown: nothing pending was processed, so send everything again once.
        if (this.#socket === s) this.#socket = undefined;
        s.destroy();
        this.#notifyLost('connection closed by server');
        for (const p of [...this.#pending.values()]) {
          if (p.resent)
            this.#settle(
              p.id,
              undefined,
              new TangoTransportError(p.device, this.endpoint, 'connection closed by server'),
            );
          else {
            p.resent = true;
            this.#send(p);
          }
        }
        return;
      }
      case MsgType.MessageError:
        return this.#protocolError(s, 'server reported a GIOP MessageError');
      default:
        return; // LocateReply etc.: ignore
    }
  }

  #onReply(id: number, msg: Uint8Array): void {
    const p = this.#pending.get(id);
    if (!p) return;
    try {
      this.#settle(id, this.#decodeReply(msg, p.device));
    } catch (e) {
      const err =
        e instanceof GiopUserException || e instanceof TangoTransportError
          ? e
          : new TangoProtocolError(
              `${p.device ? `${p.device} ` : ''}at ${this.endpoint}: bad reply: ${errorMessage(e)}`,
              { cause: e },
            );
      this.#settle(id, undefined, err);
    }
  }

  #decodeReply(msg: Uint8Array, device: string): CdrReader {
    const { status, body: r } = decodeReply(msg);
    switch (status) {
      case ReplyStatus.NoException:
        return r;
      case ReplyStatus.UserException:
        throw new GiopUserException(r.string(), r);
      case ReplyStatus.SystemException: {
        const repoId = r.string();
        throw new GiopSystemException(device, this.endpoint, repoId, r.ulong(), r.ulong());
      }
      default:
        throw new TangoTransportError(device, this.endpoint, `unsupported GIOP reply status ${status}`);
    }
  }
}
