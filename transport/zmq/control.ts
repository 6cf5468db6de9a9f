/**
 * The control channel: JSON request/reply over ZeroMQ DEALER (client) / ROUTER (server).
 *
 * Request `{id, method, params, deadline?}` → reply `{id, ok: true, result, time}` or
 * `{id, ok: false, error: {name, message}, time}`. There is no REQ socket whose state machine a
 * lost reply could wedge: the client matches replies by id and rejects a request that gets no
 * reply within `timeoutMs` with a `TransportError` naming the endpoint. Late replies are ignored.
 *
 * A request that timed out never runs later: the client hands it to ZeroMQ only while it has
 * time left, and tags it with its `deadline` in the server's clock (`time` of the replies gives
 * the offset); a server that reads a request after its deadline drops it instead of running it
 * (`counters.expired`) — a restarted server included, since it shares the old one's clock.
 * Until the first reply the client does not know the offset and sends no deadline.
 * The server also answers REQ clients (Python `zmq.REQ` + `send_json`).
 * @module
 */
import type { Dealer, Router } from 'zeromq';
import { zeromq } from './zeromq.js';
import { errorMessage } from '../../core/errors.js';
import { applyCurve, type CurveOptions } from './curve.js';
import { RemoteError, TransportError } from './errors.js';
import { checkSocketMs, place, race, type Placement } from './internal.js';
import { afterEachRevocation, bindAgain, RefusedError, watchAuthFailures, type AllowList } from './zap.js';

/** A control request as it travels. */
export interface ControlRequest {
  id: number | string;
  method: string;
  params?: unknown;
  /** Server time (ms since the epoch) after which the request must not run. */
  deadline?: number;
}

/** A control reply as it travels; `time` is the server's clock (ms since the epoch). */
export type ControlReply =
  | { id: number | string; ok: true; result: unknown; time?: number }
  | { id: number | string; ok: false; error: { name: string; message: string }; time?: number };

/** Handles one method; its return value (JSON-serialisable) is the result, a throw the error. */
export type ControlHandler = (params: unknown) => unknown;

/** Options of {@link ControlServer.create}. */
export interface ControlServerOptions extends Placement {
  /** Method name → handler. More can be added with {@link ControlServer.handle}. */
  handlers?: Record<string, ControlHandler>;
  /** Requests larger than this are dropped (bytes, default 1 MiB). */
  maxRequestBytes?: number;
  curve?: CurveOptions;
}

/** Options of {@link ControlClient.create}. */
export interface ControlClientOptions extends Placement {
  /** Default reply timeout in ms (default 5000; at most 2³¹−1, as it is also ZMQ_SNDTIMEO). */
  timeoutMs?: number;
  curve?: CurveOptions;
}

/** Options of one {@link ControlClient.request}. */
export interface RequestOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
}

/**
 * Serves control requests on a ROUTER socket. Handlers run concurrently; each reply goes back to
 * the client that asked. Unknown methods and handler errors become error replies.
 * @example
 * ```ts
 * const server = await ControlServer.create({ bind: tcpEndpoint(5556), handlers: { status: () => ({ state: 'standby' }) } });
 * ```
 */
export class ControlServer {
  #socket: Router;
  readonly #options: ControlServerOptions;
  readonly #handlers = new Map<string, ControlHandler>();
  readonly #maxRequestBytes: number;
  #tail: Promise<unknown> = Promise.resolve();
  #closed = false;
  #counters = { requests: 0, errors: 0, invalid: 0, expired: 0 };

  private constructor(
    socket: Router,
    options: ControlServerOptions,
    /** The concrete endpoint. */ readonly endpoint: string,
  ) {
    this.#socket = socket;
    this.#options = options;
    this.#maxRequestBytes = options.maxRequestBytes ?? 1024 * 1024;
    for (const [method, handler] of Object.entries(options.handlers ?? {})) this.#handlers.set(method, handler);
    void this.#run(socket);
    const allow = options.curve && 'curveServer' in options.curve ? options.curve.allow : undefined;
    if (allow && options.bind !== undefined)
      afterEachRevocation(
        allow,
        () => this.#closed,
        () => this.#renew(allow),
      );
  }

  /**
   * Creates the ROUTER socket and binds (or connects). With an allow-list, a revoked key is cut
   * off by a new socket bound in the old one's place: every client reconnects and passes the
   * list again (an unbind of the old socket with clients connected made libzmq 4.3.5 abort the
   * process now and then). A request in flight then gets no reply; clients ask again.
   * @throws TransportError
   */
  static async create(options: ControlServerOptions): Promise<ControlServer> {
    const socket = new (zeromq().Router)({ linger: 0 });
    const endpoint = await place(socket, options, 'ControlServer', 'owner');
    return new ControlServer(socket, options, endpoint);
  }

  /** Closes the socket and binds a new one to the same endpoint (see {@link ControlServer.create}). */
  async #renew(allow: AllowList): Promise<void> {
    const socket = new (zeromq().Router)({ linger: 0 });
    applyCurve(socket, this.#options.curve);
    this.#socket.close();
    this.#socket = socket;
    try {
      await bindAgain(socket, this.endpoint);
    } catch (error) {
      if (!this.#closed)
        allow.log.error(`cannot bind ${this.endpoint} again after revoking a key: ${errorMessage(error)}`, error);
      return;
    }
    if (this.#closed) return void socket.close();
    void this.#run(socket);
  }

  /** Registers (or replaces) the handler of `method`. */
  handle(method: string, handler: ControlHandler): this {
    this.#handlers.set(method, handler);
    return this;
  }

  /** Requests answered, error replies sent, malformed requests dropped, requests read after their deadline (not run). */
  get counters(): { requests: number; errors: number; invalid: number; expired: number } {
    return { ...this.#counters };
  }

  /** Closes the socket. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#socket.close();
  }

  /** Serves the requests `socket` receives until it is closed. */
  async #run(socket: Router): Promise<void> {
    while (!this.#closed && !socket.closed) {
      let parts: Buffer[];
      try {
        parts = await socket.receive();
      } catch {
        break;
      }
      void this.#serve(parts);
    }
  }

  async #serve(parts: Buffer[]): Promise<void> {
    // DEALER: [routing id, payload]; REQ: [routing id, empty delimiter, payload]
    const envelope = parts.length === 3 && parts[1]!.length === 0 ? parts.slice(0, 2) : parts.slice(0, 1);
    const payload = parts[parts.length - 1]!;
    if ((parts.length !== 2 && envelope.length !== 2) || payload.length > this.#maxRequestBytes) {
      this.#counters.invalid++;
      return;
    }
    let request: ControlRequest;
    try {
      request = JSON.parse(payload.toString('utf8')) as ControlRequest;
      if (
        typeof request !== 'object' ||
        request === null ||
        typeof request.method !== 'string' ||
        !['number', 'string'].includes(typeof request.id)
      )
        throw new Error('not a request');
    } catch {
      this.#counters.invalid++;
      return;
    }
    const { deadline } = request;
    const late = typeof deadline === 'number' ? Date.now() - deadline : -1;
    let reply: string;
    if (late > 0) {
      // the client has given up on it: running it now would do what it was told had failed
      this.#counters.expired++;
      const message = `control request '${request.method}' arrived ${late} ms after its deadline: dropped, not run`;
      reply = JSON.stringify({
        id: request.id,
        ok: false,
        error: { name: 'TransportError', message },
        time: Date.now(),
      });
    } else {
      this.#counters.requests++;
      try {
        const handler = this.#handlers.get(request.method);
        if (!handler)
          throw new TransportError(
            `unknown control method '${String(request.method).slice(0, 80)}' on ${this.endpoint}`,
            this.endpoint,
          );
        const { params } = request;
        if (params !== undefined && params !== null && (typeof params !== 'object' || Array.isArray(params)))
          throw new TypeError(
            `control request '${request.method}': params must be an object (or absent), got ` +
              `${Array.isArray(params) ? 'an array' : typeof params}`,
          );
        const result = await handler(request.params);
        reply = JSON.stringify({ id: request.id, ok: true, result: result ?? null, time: Date.now() });
      } catch (error) {
        this.#counters.errors++;
        const name = error instanceof Error ? error.name : 'Error';
        reply = JSON.stringify({
          id: request.id,
          ok: false,
          error: { name, message: errorMessage(error) },
          time: Date.now(),
        });
      }
    }
    const op = this.#tail.then(() => (this.#closed ? undefined : this.#socket.send([...envelope, reply])));
    this.#tail = op.catch(() => undefined);
    await this.#tail;
  }
}

/**
 * Sends control requests over a DEALER socket and matches replies by id.
 * @example
 * ```ts
 * const client = await ControlClient.create({ connect: 'tcp://127.0.0.1:5556', timeoutMs: 3000 });
 * const status = await client.request<{ state: string }>('status');
 * ```
 */
export class ControlClient {
  readonly #socket: Dealer;
  readonly #timeoutMs: number;
  readonly #pending = new Map<
    number,
    {
      resolve: (value: unknown) => void;
      reject: (error: unknown) => void;
      method: string;
      unsent?: string;
      /** `performance.now()` when it was handed to ZeroMQ. */
      sentAt?: number;
    }
  >();
  /** Server clock − our clock (ms) and the round trip it was measured with; undefined before the first reply. */
  #clock: { offset: number; rtt: number } | undefined;
  #nextId = 1;
  #tail: Promise<unknown> = Promise.resolve();
  #closed = false;

  private constructor(
    socket: Dealer,
    timeoutMs: number,
    /** The server's endpoint. */ readonly endpoint: string,
  ) {
    this.#socket = socket;
    this.#timeoutMs = timeoutMs;
    void this.#run();
  }

  /** Creates the DEALER socket and connects (or binds). @throws TransportError */
  static async create(options: ControlClientOptions): Promise<ControlClient> {
    checkSocketMs('ControlClient.create', 'timeoutMs', options.timeoutMs, 1);
    const timeoutMs = options.timeoutMs ?? 5000;
    // immediate: never queue a request for a server that is not connected (it would run late)
    const socket = new (zeromq().Dealer)({ linger: 0, immediate: true, sendTimeout: timeoutMs });
    const endpoint = await place(socket, options, 'ControlClient');
    const client = new ControlClient(socket, timeoutMs, endpoint);
    if (options.curve && !('curveServer' in options.curve))
      client.#auth = watchAuthFailures(socket, options.curve.curvePublicKey, (error) => client.#refused(error));
    return client;
  }

  #auth: { failure(): RefusedError | undefined } | undefined;

  /** The server's ZAP handler refused this client's key: pending requests fail with that, at once. */
  #refused(error: RefusedError): void {
    for (const [id, { method }] of this.#pending)
      this.#settle(id, undefined, new RefusedError(`control request '${method}' to ${error.message}`, this.endpoint));
  }

  /**
   * Calls `method` on the server.
   * @returns the handler's result.
   * @throws RemoteError with the server's error name and message; TransportError when no reply
   * arrives within `timeoutMs` (naming the endpoint) or the client is closed; the signal's reason on abort.
   */
  request<T = unknown>(method: string, params?: unknown, options: RequestOptions = {}): Promise<T> {
    if (this.#closed)
      return Promise.reject(new TransportError(`control client for ${this.endpoint} is closed`, this.endpoint));
    const refused = this.#auth?.failure();
    if (refused)
      return Promise.reject(new RefusedError(`control request '${method}' to ${refused.message}`, this.endpoint));
    const timeoutMs = options.timeoutMs ?? this.#timeoutMs;
    const id = this.#nextId++;
    const expires = performance.now() + timeoutMs;
    const reply = new Promise<unknown>((resolve, reject) => this.#pending.set(id, { resolve, reject, method }));
    const send = this.#tail.then(async () => {
      const entry = this.#pending.get(id);
      const left = Math.floor(expires - performance.now());
      if (!entry || this.#closed || left <= 0) return; // timed out while waiting its turn: never sent
      const request: ControlRequest = { id, method, params: params ?? null };
      // the deadline in the server's clock, early by the offset's uncertainty (half a round trip)
      if (this.#clock) request.deadline = Math.floor(Date.now() + left + this.#clock.offset - this.#clock.rtt / 2);
      // wait for room at most as long as the request has left, so it cannot go out late
      this.#socket.sendTimeout = left;
      entry.sentAt = performance.now();
      await this.#socket.send(JSON.stringify(request));
    });
    this.#tail = send.catch(() => undefined);
    send.catch((error: unknown) => {
      // no connected server took it (ZMQ_IMMEDIATE): no reply can come, the timeout reports it
      const entry = this.#pending.get(id);
      if (entry) entry.unsent = errorMessage(error);
    });
    return race(reply, options.signal, timeoutMs, () => {
      const unsent = this.#pending.get(id)?.unsent;
      const why = unsent === undefined ? '' : ' (not sent: no connected server)';
      return new TransportError(
        `control request '${method}' to ${this.endpoint} got no reply within ${timeoutMs} ms${why}`,
        this.endpoint,
      );
    }).finally(() => this.#pending.delete(id)) as Promise<T>;
  }

  /** Closes the socket; pending requests fail with a `TransportError`. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#socket.close();
    for (const [id, { method }] of this.#pending)
      this.#settle(
        id,
        undefined,
        new TransportError(`control request '${method}' to ${this.endpoint}: client closed`, this.endpoint),
      );
  }

  /**
   * Updates the server clock offset from a reply to a pending request (the most precise round trip
   * wins, a newer one if it is not much worse).
   */
  #learnClock(reply: ControlReply): void {
    const sentAt = this.#pending.get(reply.id as number)?.sentAt;
    if (typeof reply.time !== 'number' || !Number.isFinite(reply.time) || sentAt === undefined) return;
    const rtt = performance.now() - sentAt;
    if (this.#clock && rtt > Math.max(2 * this.#clock.rtt, 5)) return;
    this.#clock = { offset: reply.time - (Date.now() - rtt / 2), rtt };
  }

  #settle(id: number, value: unknown, error?: unknown): void {
    const entry = this.#pending.get(id);
    if (!entry) return;
    this.#pending.delete(id);
    if (error === undefined) entry.resolve(value);
    else entry.reject(error);
  }

  async #run(): Promise<void> {
    while (!this.#closed) {
      let parts: Buffer[];
      try {
        parts = await this.#socket.receive();
      } catch {
        break;
      }
      let reply: ControlReply;
      try {
        reply = JSON.parse(parts[parts.length - 1]!.toString('utf8')) as ControlReply;
      } catch {
        continue; // malformed reply: the request will time out
      }
      if (typeof reply !== 'object' || reply === null || typeof reply.id !== 'number') continue;
      this.#learnClock(reply);
      if (reply.ok === true) this.#settle(reply.id, reply.result);
      else if (reply.ok === false) {
        const method = this.#pending.get(reply.id)?.method ?? '?';
        const name = String(reply.error?.name ?? 'Error');
        this.#settle(
          reply.id,
          undefined,
          new RemoteError(
            `${this.endpoint} '${method}': ${name}: ${String(reply.error?.message ?? '')}`,
            this.endpoint,
            name,
          ),
        );
      }
    }
  }
}
