/**
 * The session's side of a remote server: control requests with timeouts, and following one
 * stream to its confirmed end.
 * @module
 */
import { sleep, errorMessage } from '../../core/index.js';
import { AcquisitionError } from '../../experiments/errors.js';
import { ControlClient, RefusedError, TransportError, type CurveOptions } from '../../transport/zmq/index.js';
import { AddonError } from '../errors.js';
import {
  DEFAULT_SERVER_TIMEOUT_MS,
  POLL_INTERVAL_MS,
  type DataMode,
  type ServerStatus,
  type StreamStatus,
} from './protocol.js';

/** How long a `stream.cancel` may take: a server busy with the stream's frames reads it late (ms). */
export const CANCEL_TIMEOUT_MS = 15_000;

/** How long a confirmed lossless stream waits for the camera's frame count before it fails (ms). */
export const COUNT_WAIT_MS = 10_000;

/** Options of {@link ServerClient.create}. */
export interface ServerClientOptions {
  /** A request without a reply in this long means the server is gone (ms, default 3000). */
  timeoutMs?: number;
  curve?: CurveOptions;
}

/** Talks to one addon server. */
export class ServerClient {
  private constructor(
    readonly endpoint: string,
    readonly control: ControlClient,
  ) {}

  /** Connects and checks the server answers. @throws AddonError naming the endpoint. */
  static async create(endpoint: string, options: ServerClientOptions = {}): Promise<ServerClient> {
    const control = await ControlClient.create({
      connect: endpoint,
      timeoutMs: options.timeoutMs ?? DEFAULT_SERVER_TIMEOUT_MS,
      curve: options.curve,
    });
    try {
      await control.request<ServerStatus>('status');
    } catch (error) {
      control.close();
      if (error instanceof RefusedError)
        throw new AddonError(`the server at ${endpoint} refused this client: ${errorMessage(error)}`, { cause: error });
      throw new AddonError(`no server answers at ${endpoint}: ${errorMessage(error)}`, { cause: error });
    }
    return new ServerClient(endpoint, control);
  }

  request<T>(method: string, params?: unknown, options: { signal?: AbortSignal; timeoutMs?: number } = {}): Promise<T> {
    return this.control.request<T>(method, params, options);
  }

  status(): Promise<ServerStatus> {
    return this.request('status');
  }

  /** Connects the server's data socket to a (binding) sender. */
  async connectData(endpoint: string, mode: DataMode): Promise<void> {
    await this.request('connect', { endpoint, mode });
  }

  async disconnectData(): Promise<void> {
    await this.request('disconnect');
  }

  /**
   * Tells the server a stream called `name` is coming; with `id`, frames of other streams are
   * strays it drops. @throws RemoteError if it refuses (e.g. one is running).
   */
  async startStream(name: string, params: Record<string, unknown> = {}): Promise<void> {
    await this.request('stream.start', { ...params, name });
  }

  /**
   * Waits until the server confirms the end of the stream and checks, for a lossless consumer,
   * its frame count against `produced` (what the camera sent): a count that does not match, or
   * that cannot be known, fails. A latest-wins server gets `graceMs` after the producer finished.
   * With `id`, a server that reports another stream (restarted, or taken over) fails it too.
   * Aborting tells the server to drop the stream.
   * @throws AcquisitionError on a count mismatch, an unknown count, a lost stream or a server
   *   error; TransportError when the server stops answering (naming it).
   */
  async followStream(
    name: string,
    produced: Promise<number>,
    options: {
      signal: AbortSignal;
      lossless: boolean;
      graceMs?: number;
      id?: string;
      countWaitMs?: number;
      /** Called with every status of this stream polled (its `frames`: what the server has confirmed so far). */
      onStatus?: (status: StreamStatus) => void;
    },
  ): Promise<StreamStatus> {
    const { signal, lossless, graceMs = 2000, id, countWaitMs = COUNT_WAIT_MS, onStatus } = options;
    let sent: number | undefined;
    let producerFailed = false;
    let producedAt: number | undefined;
    produced.then(
      (n) => {
        sent = n;
        producedAt = performance.now();
      },
      () => void (producerFailed = true),
    );
    try {
      for (;;) {
        signal.throwIfAborted();
        const status = await this.request<StreamStatus>('stream.status', undefined, { signal });
        if (id !== undefined && status.id !== id)
          throw new AcquisitionError(
            `${this.endpoint} lost stream '${name}': it reports ` +
              (status.id === undefined
                ? `no stream of this run (state '${status.state}'; restarted?)`
                : `stream '${status.name}' (${status.id}) instead`),
          );
        onStatus?.(status);
        if (status.state === 'failed')
          throw new AcquisitionError(
            `${this.endpoint} failed stream '${name}': ${status.error?.name ?? 'Error'}: ${status.error?.message ?? ''}`,
          );
        if (status.state === 'cancelled') throw new AcquisitionError(`${this.endpoint} dropped stream '${name}'`);
        if (status.state === 'done') {
          if (!lossless) return status;
          const n = sent ?? (await this.#count(produced, signal, countWaitMs));
          if (n === undefined)
            throw new AcquisitionError(
              `${this.endpoint} confirmed ${status.frames} frames of stream '${name}', but how many the camera sent is ` +
                `not known within ${countWaitMs} ms: cannot confirm that every frame arrived`,
            );
          if (status.frames !== n)
            throw new AcquisitionError(`${this.endpoint} received ${status.frames} of ${n} frames of stream '${name}'`);
          return status;
        }
        if (producerFailed)
          throw signal.reason ?? new AcquisitionError(`stream '${name}' ended because its producer failed`);
        if (!lossless && producedAt !== undefined && performance.now() - producedAt > graceMs) {
          await this.#cancel(id);
          return status;
        }
        await sleep(POLL_INTERVAL_MS, signal);
      }
    } catch (error) {
      if (signal.aborted || !(error instanceof TransportError)) await this.#cancel(id);
      throw error;
    }
  }

  /**
   * Tells the server to drop stream `id` (or its current one), within the usual timeout (a run
   * that is cancelled must end soon). A server too busy to read it in time keeps the stream; the
   * addon drops it before its next stream (with {@link CANCEL_TIMEOUT_MS}).
   */
  async #cancel(id: string | undefined): Promise<void> {
    await this.request('stream.cancel', id === undefined ? undefined : { id }).catch(() => undefined);
  }

  /** The producer's count, or undefined if it is not known within `waitMs` (or failed). */
  async #count(produced: Promise<number>, signal: AbortSignal, waitMs: number): Promise<number | undefined> {
    const wait = new AbortController();
    try {
      const timeout = sleep(waitMs, AbortSignal.any([signal, wait.signal])).then(
        () => undefined,
        (error: unknown) => {
          if (signal.aborted) throw error;
          return undefined; // stopped by `finally`: the race is over
        },
      );
      return await Promise.race([produced.catch(() => undefined), timeout]);
    } finally {
      wait.abort();
    }
  }

  close(): void {
    this.control.close();
  }
}
