/**
 * GIOP 1.2 over IIOP, server side: accepts connections, cuts requests out of each stream (with
 * fragments), dispatches them by object key to servants, and writes replies as they are ready, in
 * any order (several clients at once, several requests in flight on each). Malformed input never
 * takes the server down: a broken header gets a MessageError and the connection is closed; a
 * request whose body cannot be decoded gets a CORBA MARSHAL exception.
 * @module
 */
import net from 'node:net';
import { CdrError, type CdrReader, type CdrWriter } from '../cdr.js';
import { GiopFramer } from '../giop-framer.js';
import {
  FLAG_LITTLE_ENDIAN,
  LocateStatus,
  MsgType,
  ReplyStatus,
  decodeRequest,
  encodeHeaderOnly,
  encodeLocateReply,
  encodeReply,
  writeSystemException,
  type RequestHeader,
} from '../giop-messages.js';
import { Logger, errorMessage } from '../../core/index.js';

/** Who sent a request. */
export interface RequestContext {
  /** `host:port` of the client. */
  readonly peer: string;
  readonly operation: string;
}

/** An object the server answers for (one per object key). */
export interface Servant {
  /** Repository ids it implements, most derived first (for `_is_a`). */
  readonly interfaces: readonly string[];
  /**
   * Runs an operation. Returns what writes the reply body (or undefined for an empty one).
   * @throws UserException (e.g. DevFailed), SystemException, or CdrError for a bad body.
   */
  invoke(operation: string, body: CdrReader, context: RequestContext): Promise<ReplyBody> | ReplyBody;
}

/** What writes a reply body. */
export type ReplyBody = ((w: CdrWriter) => void) | undefined;

/** A CORBA user exception for the reply (`IDL:Tango/DevFailed:1.0` and its members). */
export class UserException extends Error {
  override name = 'UserException';
  constructor(
    readonly repoId: string,
    readonly write: (w: CdrWriter) => void,
  ) {
    super(repoId);
  }
}

/** A CORBA system exception for the reply (`BAD_OPERATION`, `OBJECT_NOT_EXIST`, `MARSHAL`, …). */
export class SystemException extends Error {
  override name = 'SystemException';
  constructor(
    readonly exception: string,
    message = exception,
    readonly minor = 0,
    readonly completed: 0 | 1 | 2 = 1,
  ) {
    super(message);
  }
}

/** Options of {@link GiopServer.listen}. */
export interface GiopServerOptions {
  /** Address to bind (default 127.0.0.1). */
  host?: string;
  /** Port (default: a free one). */
  port?: number;
}

/** Counters the server keeps (fuzz tests and status). */
export interface GiopServerCounters {
  connections: number;
  requests: number;
  malformed: number;
}

/** Object keys are device names; clients send them in any case. */
const keyOf = (key: Uint8Array): string => Buffer.from(key).toString('latin1').toLowerCase();

/** A GIOP server. */
export class GiopServer {
  readonly log = new Logger('giop server');
  readonly counters: GiopServerCounters = { connections: 0, requests: 0, malformed: 0 };
  readonly #server: net.Server;
  readonly #servants = new Map<string, Servant>();
  readonly #sockets = new Set<net.Socket>();
  #closing = false;

  private constructor(server: net.Server) {
    this.#server = server;
  }

  /** Starts listening. @throws when the port cannot be bound (in use, no permission). */
  static async listen(options: GiopServerOptions = {}): Promise<GiopServer> {
    const server = net.createServer({ noDelay: true });
    const giop = new GiopServer(server);
    server.on('connection', (s) => giop.#onConnection(s));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (e) => giop.log.error(`listening socket: ${errorMessage(e)}`));
    return giop;
  }

  /** The bound address. */
  get host(): string {
    return (this.#server.address() as net.AddressInfo).address;
  }

  /** The bound port. */
  get port(): number {
    return (this.#server.address() as net.AddressInfo).port;
  }

  /** Open client connections. */
  get connections(): number {
    return this.#sockets.size;
  }

  /** Answers requests for `objectKey` (case-insensitive) with `servant`. */
  register(objectKey: string, servant: Servant): void {
    this.#servants.set(objectKey.toLowerCase(), servant);
  }

  /** Stops answering for `objectKey`. */
  unregister(objectKey: string): void {
    this.#servants.delete(objectKey.toLowerCase());
  }

  /** Tells every client the connection closes (CloseConnection), closes them and stops listening. */
  async close(): Promise<void> {
    if (this.#closing) return;
    this.#closing = true;
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    const bye = encodeHeaderOnly(MsgType.CloseConnection);
    for (const s of this.#sockets) s.end(bye);
    const deadline = setTimeout(() => {
      for (const s of this.#sockets) s.destroy();
    }, 500);
    await closed;
    clearTimeout(deadline);
  }

  #onConnection(s: net.Socket): void {
    if (this.#closing) {
      s.destroy();
      return;
    }
    this.counters.connections++;
    this.#sockets.add(s);
    const peer = `${s.remoteAddress}:${s.remotePort}`;
    const framer = new GiopFramer(
      (msg) => this.#onMessage(s, peer, msg),
      (why) => {
        this.counters.malformed++;
        this.log.warn(`closing the connection of ${peer}: ${why}`);
        if (!s.destroyed) s.end(encodeHeaderOnly(MsgType.MessageError));
      },
      { maxMessageSize: 256 * 1024 * 1024 },
    );
    s.on('data', (d: Buffer) => framer.push(d));
    s.on('error', () => undefined); // 'close' follows
    s.on('close', () => this.#sockets.delete(s));
  }

  #onMessage(s: net.Socket, peer: string, msg: Uint8Array): void {
    const type = msg[7];
    if (this.log.enabled('debug')) this.log.debug(`${peer}: GIOP message type ${type}, ${msg.length} bytes`);
    if (type === MsgType.Request || type === MsgType.LocateRequest) {
      let header: RequestHeader;
      try {
        header = decodeRequest(msg);
      } catch (e) {
        this.counters.malformed++;
        const id =
          msg.length >= 16
            ? new DataView(msg.buffer, msg.byteOffset).getUint32(12, (msg[6]! & FLAG_LITTLE_ENDIAN) === 1)
            : 0;
        if (type === MsgType.Request)
          this.#reply(s, id, ReplyStatus.SystemException, (w) => writeSystemException(w, 'MARSHAL', 0, 0), msg[5]!);
        this.log.debug(`bad request header from ${peer}: ${errorMessage(e)}`);
        return;
      }
      if (type === MsgType.LocateRequest) {
        const known = this.#servants.has(keyOf(header.objectKey));
        this.#write(
          s,
          encodeLocateReply(
            header.requestId,
            known ? LocateStatus.ObjectHere : LocateStatus.UnknownObject,
            true,
            header.minor,
          ),
        );
        return;
      }
      this.counters.requests++;
      this.#dispatch(s, peer, header);
      return;
    }
    if (type === MsgType.CloseConnection) s.end();
    // CancelRequest, replies and the rest: nothing to do.
  }

  #dispatch(s: net.Socket, peer: string, req: RequestHeader): void {
    const { requestId: id, operation, minor } = req;
    const respond = req.responseExpected;
    const servant = this.#servants.get(keyOf(req.objectKey));
    if (this.log.enabled('debug')) this.log.debug(`${peer}: ${operation} on ${keyOf(req.objectKey)} (request ${id})`);
    let body: ReplyBody | Promise<ReplyBody>;
    try {
      if (!servant) throw new SystemException('OBJECT_NOT_EXIST', `no object ${keyOf(req.objectKey)}`, 0, 0);
      if (operation === '_is_a') {
        const repoId = req.body.string();
        body = (w) => w.boolean(servant.interfaces.includes(repoId));
      } else if (operation === '_non_existent' || operation === '_not_existent') {
        body = (w) => w.boolean(false);
      } else body = servant.invoke(operation, req.body, { peer, operation });
    } catch (e) {
      if (respond) this.#replyError(s, id, minor, peer, operation, e);
      return;
    }
    if (!respond) {
      if (body instanceof Promise) body.catch(() => undefined);
      return;
    }
    if (body instanceof Promise)
      body.then(
        (b) => this.#reply(s, id, ReplyStatus.NoException, b, minor),
        (e: unknown) => this.#replyError(s, id, minor, peer, operation, e),
      );
    else this.#reply(s, id, ReplyStatus.NoException, body, minor);
  }

  #replyError(s: net.Socket, id: number, minor: number, peer: string, operation: string, e: unknown): void {
    if (e instanceof UserException)
      this.#reply(
        s,
        id,
        ReplyStatus.UserException,
        (w) => {
          w.string(e.repoId);
          e.write(w);
        },
        minor,
      );
    else if (e instanceof SystemException)
      this.#reply(
        s,
        id,
        ReplyStatus.SystemException,
        (w) => writeSystemException(w, e.exception, e.minor, e.completed),
        minor,
      );
    else if (e instanceof CdrError) {
      this.counters.malformed++;
      this.#reply(s, id, ReplyStatus.SystemException, (w) => writeSystemException(w, 'MARSHAL', 0, 0), minor);
    } else {
      this.log.error(`${operation} from ${peer} failed inside the server: ${errorMessage(e)}`, e);
      this.#reply(s, id, ReplyStatus.SystemException, (w) => writeSystemException(w, 'UNKNOWN', 0, 2), minor);
    }
  }

  #reply(s: net.Socket, id: number, status: ReplyStatus, body: ReplyBody, minor: number): void {
    let msg: Uint8Array;
    try {
      msg = encodeReply(id, status, body, true, minor);
    } catch (e) {
      // A reply the servant cannot encode (a handler returned a bad value): tell the client.
      this.log.error(`cannot encode the reply to request ${id}: ${errorMessage(e)}`, e);
      msg = encodeReply(id, ReplyStatus.SystemException, (w) => writeSystemException(w, 'MARSHAL', 1, 1), true, minor);
    }
    this.#write(s, msg);
  }

  #write(s: net.Socket, msg: Uint8Array): void {
    if (!s.destroyed && s.writable) s.write(msg);
  }
}
