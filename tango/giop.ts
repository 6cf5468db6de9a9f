/**
 * GIOP 1.2 over TCP (IIOP): one connection per server endpoint shared by all its devices,
 * requests multiplexed by request id, per-call timeouts, fragment reassembly, and reconnection
 * on the next call after the server went away.
 * @module
 */
import net from 'node:net';
import { CdrReader, CdrWriter } from './cdr.js';
import { TangoProtocolError, TangoTimeoutError, TangoTransportError } from './errors.js';
import { errorMessage, startTimer, type Timer } from '../core/index.js';

/** Default per-call timeout in milliseconds. */
export const DEFAULT_TIMEOUT_MS = 3000;
/** Largest GIOP message accepted (bytes); larger announced sizes are treated as garbage. */
export const MAX_MESSAGE_SIZE = 512 * 1024 * 1024;

/** Size of the socket read buffer. */
const READ_BUFFER = 256 * 1024;
/** Largest buffer allocated for a message before its data arrives (guards against bogus sizes). */
const INITIAL_ALLOCATION = 8 * 1024 * 1024;
/** Spare bytes allocated after a fragmented reply's first part. */
const FRAGMENT_SLACK = 64 * 1024;

/** GIOP message types. */
export enum MsgType {
  Request = 0,
  Reply = 1,
  CancelRequest = 2,
  LocateRequest = 3,
  LocateReply = 4,
  CloseConnection = 5,
  MessageError = 6,
  Fragment = 7,
}

/** GIOP reply status values. */
export enum ReplyStatus {
  NoException = 0,
  UserException = 1,
  SystemException = 2,
  LocationForward = 3,
  LocationForwardPerm = 4,
  NeedsAddressingMode = 5,
}

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
  readonly resolve: (r: CdrReader) => void;
  readonly reject: (e: Error) => void;
  readonly timer: Timer;
  readonly device: string;
  readonly message: Uint8Array;
  resent: boolean;
}

function header(w: CdrWriter, type: MsgType): void {
  w.raw(new Uint8Array([0x47, 0x49, 0x4f, 0x50, 1, 2, w.littleEndian ? 1 : 0, type])).ulong(0);
}

/**
 * Encodes a GIOP 1.2 Request. `args` writes the body (aligned on 8 bytes when not empty).
 * @internal
 */
export function encodeRequest(
  requestId: number,
  objectKey: Uint8Array,
  operation: string,
  args?: (w: CdrWriter) => void,
): Uint8Array {
  const w = new CdrWriter(true, 256);
  header(w, MsgType.Request);
  w.ulong(requestId).octet(3).octet(0).octet(0).octet(0); // response expected, reserved
  w.short(0).octets(objectKey); // TargetAddress: KeyAddr
  w.string(operation).ulong(0); // no service contexts
  if (args) {
    const body = new CdrWriter(true, 256);
    args(body);
    if (body.length > 0) w.align(8).raw(body.bytes());
  }
  w.patchUlong(8, w.length - 12);
  return w.bytes();
}

/**
 * Encodes a GIOP 1.2 Reply (used by tests and fake servers).
 * @internal
 */
export function encodeReply(
  requestId: number,
  status: ReplyStatus,
  body?: (w: CdrWriter) => void,
  littleEndian = true,
): Uint8Array {
  const w = new CdrWriter(littleEndian, 256);
  header(w, MsgType.Reply);
  w.ulong(requestId).ulong(status).ulong(0);
  if (body) {
    w.align(8);
    body(w);
  }
  w.patchUlong(8, w.length - 12);
  return w.bytes();
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
  #head = new Uint8Array(12);
  #headLen = 0;
  #msg: Uint8Array | undefined;
  #msgLen = 0;
  #msgSize = 0;
  #fragments = new Map<number, { buf: Uint8Array; len: number }>();
  #users = 0;

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
    s?.destroy();
    this.#failAll((d) => new TangoTransportError(d, this.endpoint, 'connection closed'));
  }

  /**
   * Sends a request and resolves with a reader positioned at the reply body.
   * @throws GiopUserException, GiopSystemException, TangoTransportError, TangoTimeoutError,
   *   TangoProtocolError
   */
  call(
    objectKey: Uint8Array,
    operation: string,
    args?: (w: CdrWriter) => void,
    options: CallOptions = {},
  ): Promise<CdrReader> {
    const device = options.device ?? '';
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const id = this.#nextId;
    this.#nextId = (this.#nextId + 1) >>> 0 || 1;
    const message = encodeRequest(id, objectKey, operation, args);
    return new Promise<CdrReader>((resolve, reject) => {
      const timer = startTimer(timeoutMs, () => {
        this.#pending.delete(id);
        reject(new TangoTimeoutError(device, this.endpoint, `${operation} timed out after ${timeoutMs} ms`));
      });
      const pending: Pending = { resolve, reject, timer, device, message, resent: false };
      this.#pending.set(id, pending);
      this.#send(id, pending);
    });
  }

  #send(id: number, p: Pending): void {
    this.#connect().then(
      (s) => {
        if (this.#pending.get(id) === p) s.write(p.message);
      },
      (e: Error) =>
        this.#settle(
          id,
          undefined,
          new TangoTransportError(p.device, this.endpoint, `cannot connect: ${e.message}`, { cause: e }),
        ),
    );
  }

  #settle(id: number, value: CdrReader | undefined, error?: Error): void {
    const p = this.#pending.get(id);
    if (!p) return; // timed out already, or unknown id
    this.#pending.delete(id);
    p.timer.cancel();
    if (error) p.reject(error);
    else p.resolve(value!);
  }

  #failAll(make: (device: string) => Error): void {
    for (const id of [...this.#pending.keys()]) this.#settle(id, undefined, make(this.#pending.get(id)!.device));
  }

  #connect(): Promise<net.Socket> {
    if (this.#socket && !this.#socket.destroyed) return Promise.resolve(this.#socket);
    if (this.#connecting) return this.#connecting;
    this.#connecting = new Promise<net.Socket>((resolve, reject) => {
      // Reads land in one reusable buffer and are copied straight into message buffers.
      const s: net.Socket = net.connect({
        host: this.host,
        port: this.port,
        onread: {
          buffer: Buffer.allocUnsafe(READ_BUFFER),
          callback: (n, buf) => {
            this.#onData(s, buf.subarray(0, n));
            return true;
          },
        },
      });
      s.setNoDelay(true);
      const onError = (e: Error): void => {
        this.#connecting = undefined;
        reject(e);
      };
      s.once('error', onError);
      s.once('connect', () => {
        s.off('error', onError);
        this.#connecting = undefined;
        this.#socket = s;
        this.#headLen = 0;
        this.#msg = undefined;
        this.#fragments.clear();
        s.on('error', () => {
          /* 'close' follows */
        });
        s.on('close', () => this.#onClose(s));
        resolve(s);
      });
    });
    return this.#connecting;
  }

  #onClose(s: net.Socket): void {
    if (this.#socket !== s) return;
    this.#socket = undefined;
    this.#failAll((d) => new TangoTransportError(d, this.endpoint, 'connection lost'));
  }

  #protocolError(s: net.Socket, why: string): void {
    if (this.#socket === s) this.#socket = undefined;
    s.destroy();
    this.#failAll((d) => new TangoProtocolError(`${d ? `${d} ` : ''}at ${this.endpoint}: ${why}`));
  }

  /**
   * Consumes received bytes: each is copied once, straight into the buffer of the message it
   * belongs to (allocated when its header is complete, grown as data arrives).
   */
  #onData(s: net.Socket, data: Uint8Array): void {
    let at = 0;
    while (at < data.length && this.#socket === s) {
      if (!this.#msg) {
        const k = Math.min(12 - this.#headLen, data.length - at);
        this.#head.set(data.subarray(at, at + k), this.#headLen);
        this.#headLen += k;
        at += k;
        if (this.#headLen < 12) return;
        if (!this.#startMessage(s)) return;
      } else {
        const msg = this.#msg;
        const k = Math.min(this.#msgSize - this.#msgLen, data.length - at);
        if (this.#msgLen + k > msg.length) this.#msg = this.#grow(msg, this.#msgLen + k);
        this.#msg.set(data.subarray(at, at + k), this.#msgLen);
        this.#msgLen += k;
        at += k;
      }
      if (this.#msg && this.#msgLen === this.#msgSize) this.#finishMessage(s);
    }
  }

  /** Validates a complete 12-byte header and allocates the message buffer. */
  #startMessage(s: net.Socket): boolean {
    const head = this.#head;
    this.#headLen = 0;
    if (head[0] !== 0x47 || head[1] !== 0x49 || head[2] !== 0x4f || head[3] !== 0x50) {
      this.#protocolError(s, 'not a GIOP message');
      return false;
    }
    if (head[4] !== 1 || head[5]! > 2) {
      this.#protocolError(s, `unsupported GIOP version ${head[4]}.${head[5]}`);
      return false;
    }
    const size = new DataView(head.buffer).getUint32(8, (head[6]! & 1) === 1);
    if (size > MAX_MESSAGE_SIZE) {
      this.#protocolError(s, `GIOP message of ${size} bytes is too large`);
      return false;
    }
    // A reply with more fragments to come gets room for them, so reassembly rarely copies.
    const slack = head[7] === MsgType.Reply && (head[6]! & 2) === 2 ? FRAGMENT_SLACK : 0;
    const initial = Math.min(12 + size, INITIAL_ALLOCATION) + slack;
    this.#msg = new Uint8Array(new ArrayBuffer(initial), 0, Math.min(12 + size, INITIAL_ALLOCATION));
    this.#msg.set(head);
    this.#msgLen = 12;
    this.#msgSize = 12 + size;
    return true;
  }

  #grow(msg: Uint8Array, need: number): Uint8Array {
    if (need <= msg.buffer.byteLength) return new Uint8Array(msg.buffer, 0, need);
    const cap = Math.max(need, Math.min(2 * msg.buffer.byteLength, this.#msgSize));
    const next = new Uint8Array(new ArrayBuffer(cap), 0, need);
    next.set(msg.subarray(0, this.#msgLen));
    return next;
  }

  #finishMessage(s: net.Socket): void {
    const msg = new Uint8Array(this.#msg!.buffer, 0, this.#msgSize);
    this.#msg = undefined;
    try {
      this.#onMessage(s, msg);
    } catch (e) {
      this.#protocolError(s, errorMessage(e));
    }
  }

  #onMessage(s: net.Socket, msg: Uint8Array): void {
    const type = msg[7]!;
    const le = (msg[6]! & 1) === 1;
    const more = (msg[6]! & 2) === 2;
    switch (type) {
      case MsgType.Reply: {
        const id = new CdrReader(msg, le, 12).ulong();
        if (more) {
          this.#fragments.set(id, { buf: msg, len: msg.length });
          return;
        }
        this.#onReply(id, msg);
        return;
      }
      case MsgType.Fragment: {
        const id = new CdrReader(msg, le, 12).ulong();
        const f = this.#fragments.get(id);
        if (!f) return; // fragment of a message we do not track
        const part = msg.subarray(16);
        const need = f.len + part.length;
        if (need > f.buf.buffer.byteLength) {
          const grown = new Uint8Array(new ArrayBuffer(Math.max(need, 2 * f.buf.buffer.byteLength)));
          grown.set(f.buf.subarray(0, f.len));
          f.buf = grown;
        }
        f.buf = new Uint8Array(f.buf.buffer, 0, need);
        f.buf.set(part, f.len);
        f.len = need;
        if (more) return;
        this.#fragments.delete(id);
        this.#onReply(id, f.buf);
        return;
      }
      case MsgType.CloseConnection: {
        // Orderly shutdown: nothing pending was processed, so send everything again once.
        if (this.#socket === s) this.#socket = undefined;
        s.destroy();
        for (const [id, p] of [...this.#pending]) {
          if (p.resent)
            this.#settle(
              id,
              undefined,
              new TangoTransportError(p.device, this.endpoint, 'connection closed by server'),
            );
          else {
            p.resent = true;
            this.#send(id, p);
          }
        }
        return;
      }
      case MsgType.MessageError:
        throw new Error('server reported a GIOP MessageError');
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
    const r = new CdrReader(msg, (msg[6]! & 1) === 1, 12);
    r.ulong(); // request id
    const status = r.ulong();
    const contexts = r.length(8);
    for (let i = 0; i < contexts; i++) {
      r.ulong();
      r.octets();
    }
    if (r.remaining > 0) r.align(8);
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
