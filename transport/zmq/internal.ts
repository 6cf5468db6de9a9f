/**
 * Helpers shared by the transport sockets. Not re-exported.
 * @internal
 * @module
 */
import type { Socket } from 'zeromq';
import { OptionError } from '../../core/errors.js';
import { applyCurve, type CurveOptions } from './curve.js';
import { TransportError } from './errors.js';
import { rebindOnRevoke } from './zap.js';
import { errorMessage, MAX_TIMER_MS, startTimer, type Timer } from '../../core/index.js';

/** Where a socket goes: exactly one of `bind` and `connect`. */
export interface Placement {
  /** Endpoint to bind, e.g. `tcp://127.0.0.1:5555` or `tcp://127.0.0.1:*` (ZeroMQ picks the port). */
  bind?: string;
  /** Endpoint to connect to, e.g. `tcp://camera-host:5555`. */
  connect?: string;
}

/** True if the socket goes over TCP. @internal */
export function isTcp(options: Placement): boolean {
  return (options.bind ?? options.connect ?? '').startsWith('tcp://');
}

/**
 * Applies CURVE options, then binds or connects; returns the concrete endpoint. A socket bound
 * with an allow-list is rebound when a key is revoked, unless `revoked` is `'owner'`: its owner
 * then cuts revoked clients off itself (as `ControlServer` does, with a new socket). @internal
 */
export async function place(
  socket: Socket,
  options: Placement & { curve?: CurveOptions },
  what: string,
  revoked: 'rebind' | 'owner' = 'rebind',
): Promise<string> {
  const { bind, connect } = options;
  if ((bind === undefined) === (connect === undefined))
    throw new OptionError(`${what}: give exactly one of 'bind' and 'connect'`);
  applyCurve(socket, options.curve);
  try {
    if (bind !== undefined) {
      await socket.bind(bind);
      const endpoint = socket.lastEndpoint ?? bind;
      if (revoked === 'rebind' && options.curve && 'curveServer' in options.curve && options.curve.allow)
        rebindOnRevoke(socket, endpoint, options.curve.allow);
      return endpoint;
    }
    socket.connect(connect!);
    return connect!;
  } catch (error) {
    socket.close();
    const verb = bind !== undefined ? 'bind' : 'connect to';
    throw new TransportError(`${what}: cannot ${verb} ${bind ?? connect}: ${errorMessage(error)}`, bind ?? connect, {
      cause: error,
    });
  }
}

/** The errno code of a zeromq.js error (`'EAGAIN'`, …). @internal */
export function zmqCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/**
 * Settles with `promise`, or rejects with `signal.reason` when the signal aborts, or with
 * `onTimeout()` after `timeoutMs` (no timeout when undefined or not finite). @internal
 */
export function race<T>(
  promise: Promise<T>,
  signal: AbortSignal | undefined,
  timeoutMs?: number,
  onTimeout?: () => Error,
): Promise<T> {
  const timed = timeoutMs !== undefined && Number.isFinite(timeoutMs);
  if (!signal && !timed) return promise;
  return new Promise<T>((resolve, reject) => {
    let timer: Timer | undefined;
    const done = (): void => {
      timer?.cancel();
      signal?.removeEventListener('abort', onAbort);
    };
    const onAbort = (): void => {
      done();
      reject(signal!.reason);
    };
    if (signal?.aborted) return reject(signal.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    if (timed)
      timer = startTimer(Math.max(0, timeoutMs), () => {
        done();
        reject(onTimeout ? onTimeout() : new Error('timeout'));
      });
    promise.then(
      (value) => {
        done();
        resolve(value);
      },
      (error: unknown) => {
        done();
        reject(error);
      },
    );
  });
}

/** Resolves after `ms` milliseconds. @internal */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Checks a duration in ms that goes into a ZeroMQ socket option (ZMQ_SNDTIMEO, ZMQ_LINGER, …):
 * those are 32-bit integers, so at most {@link MAX_TIMER_MS}; a longer one would fail with a bare
 * "Invalid argument". @internal
 * @throws OptionError naming `owner` and `option`.
 */
export function checkSocketMs(owner: string, option: string, ms: number | undefined, min = 0): void {
  if (ms === undefined) return;
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < min || ms > MAX_TIMER_MS)
    throw new OptionError(
      `${owner}: option '${option}' must be a number of milliseconds in [${min}, ${MAX_TIMER_MS}] (a ZeroMQ socket ` +
        `option is a 32-bit integer), got ${String(ms)}`,
    );
}
