/**
 * The session's side of a remote server: control requests with timeouts, and following one
 * stream to its confirmed end.
 * @module
 */
import { sleep, errorMessage } from '../../core/index.js';
import { AcquisitionError } from '../../experiments/errors.js';
import { ControlClient, TransportError, type CurveOptions } from '../../transport/zmq/index.js';
import { AddonError } from '../errors.js';
import {
  DEFAULT_SERVER_TIMEOUT_MS,
  POLL_INTERVAL_MS,
  type DataMode,
  type ServerStatus,
  type StreamStatus,
} from './protocol.js';

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

  /** Tells the server a stream called `name` is coming. @throws RemoteError if it refuses (e.g. one is running). */
  async startStream(name: string, params: Record<string, unknown> = {}): Promise<void> {
    await this.request('stream.start', { ...params, name });
  }

  /**
   * Waits until the server confirms the end of the stream and checks the frame count against
   * `produced` (lossless), or gives a latest-wins server `graceMs` after the producer finished.
   * Aborting tells the server to drop the stream.
   * @throws AcquisitionError on a count mismatch or a server error; TransportError when the
   *   server stops answering (naming it).
   */
  async followStream(
    name: string,
    produced: Promise<number>,
    options: {
      signal: AbortSignal;
      lossless: boolean;
      graceMs?: number;
      /** Called with every status polled (its `frames`: what the server has confirmed so far). */
      onStatus?: (status: StreamStatus) => void;
    },
  ): Promise<StreamStatus> {
    const { signal, lossless, graceMs = 2000, onStatus } = options;
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
        onStatus?.(status);
        if (status.state === 'failed')
          throw new AcquisitionError(
            `${this.endpoint} failed stream '${name}': ${status.error?.name ?? 'Error'}: ${status.error?.message ?? ''}`,
          );
        if (status.state === 'cancelled') throw new AcquisitionError(`${this.endpoint} dropped stream '${name}'`);
        if (status.state === 'done') {
          const n = sent ?? (await Promise.race([produced, sleep(DEFAULT_SERVER_TIMEOUT_MS).then(() => undefined)]));
          if (lossless && n !== undefined && status.frames !== n)
            throw new AcquisitionError(`${this.endpoint} received ${status.frames} of ${n} frames of stream '${name}'`);
          return status;
        }
        if (producerFailed)
          throw signal.reason ?? new AcquisitionError(`stream '${name}' ended because its producer failed`);
        if (!lossless && producedAt !== undefined && performance.now() - producedAt > graceMs) {
          await this.request('stream.cancel').catch(() => undefined);
          return status;
        }
        await sleep(POLL_INTERVAL_MS, signal);
      }
    } catch (error) {
      if (signal.aborted || !(error instanceof TransportError))
        await this.request('stream.cancel').catch(() => undefined);
      throw error;
    }
  }

  close(): void {
    this.control.close();
  }
}
