/**
 * Attribute events as RxJS Observables: the server's ZeroMQ event channel when it offers one
 * (set up through the admin device's `ZmqEventSubscriptionChange` command), else client-side
 * polling.
 * @module
 */
import { Observable } from 'rxjs';
import type { AttributeReading } from './attribute-value.js';
import type { DeviceProxy } from './device-proxy.js';
import { subscribeZmq, type ZmqSubscribeOptions } from './zmq-events.js';
import { TangoTransportError } from './errors.js';
import { Logger, errorMessage, startTimer, type Timer } from '../core/index.js';

/** Event kinds. */
export type EventType = 'change' | 'periodic';

/** Options of {@link subscribeAttribute}. */
export interface SubscribeOptions extends ZmqSubscribeOptions {
  /** `'auto'` (default): ZeroMQ events, falling back to polling; or force one of them. */
  readonly mode?: 'auto' | 'zmq' | 'polling';
  /** Polling period in ms for the polling fallback (default 500). */
  readonly pollingPeriodMs?: number;
}

function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  const x = a as ArrayLike<unknown>;
  const y = b as ArrayLike<unknown>;
  if (x.length === undefined || x.length !== y.length) return false;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}

/** True when a change event is due between two readings (value, set point or quality changed). */
export function changed(prev: AttributeReading | undefined, next: AttributeReading): boolean {
  return (
    !prev ||
    prev.quality !== next.quality ||
    !sameValue(prev.value, next.value) ||
    prev.dimX !== next.dimX ||
    prev.dimY !== next.dimY
  );
}

/**
 * Client-side polling: reads the attribute every period; `'change'` emits only changes. While the
 * server cannot be reached the polling goes on (unless `reconnect` is false) and the first
 * reading after it is back is emitted as a change.
 */
export function pollAttribute(
  proxy: DeviceProxy,
  attribute: string,
  type: EventType,
  periodMs = 500,
  { reconnect = true }: { reconnect?: boolean } = {},
): Observable<AttributeReading> {
  if (!(periodMs >= 1 && periodMs <= 2 ** 31 - 1))
    throw new RangeError(`pollingPeriodMs must be a number of ms in [1, ${2 ** 31 - 1}], got ${String(periodMs)}`);
  const log = new Logger(`tango ${proxy.name}`);
  return new Observable<AttributeReading>((subscriber) => {
    let last: AttributeReading | undefined;
    let timer: Timer | undefined;
    let stopped = false;
    let unreachable = false;
    const tick = async (): Promise<void> => {
      try {
        const r = await proxy.readAttribute(attribute);
        if (stopped) return;
        if (unreachable) log.info(`polling ${attribute}: the server answers again`);
        if (type === 'periodic' || unreachable || changed(last, r)) subscriber.next(r);
        unreachable = false;
        last = r;
      } catch (e) {
        if (stopped) return;
        if (!reconnect || !(e instanceof TangoTransportError)) {
          subscriber.error(e);
          return;
        }
        if (!unreachable) log.warn(`polling ${attribute}: ${errorMessage(e)}; polling on until the server is back`);
        unreachable = true;
      }
      timer = startTimer(periodMs, () => void tick());
    };
    void tick();
    return () => {
      stopped = true;
      timer?.cancel();
    };
  });
}

/**
 * Subscribes to `change` or `periodic` events of an attribute. The subscription survives
 * restarts of the server (see `reconnect`); a DevFailed (a refused subscription, an error event,
 * an attribute that went away) ends the stream with a {@link TangoError}.
 * @example
 * ```ts
 * const sub = dev.subscribe('double_scalar', 'change').subscribe((r) => console.log(r.value));
 * ```
 */
export function subscribeAttribute(
  proxy: DeviceProxy,
  attribute: string,
  type: EventType,
  options: SubscribeOptions = {},
): Observable<AttributeReading> {
  const mode = options.mode ?? 'auto';
  if (mode !== 'auto' && mode !== 'zmq' && mode !== 'polling')
    throw new TypeError(`subscribe mode must be 'auto', 'zmq' or 'polling', got ${String(mode)}`);
  const poll = () => pollAttribute(proxy, attribute, type, options.pollingPeriodMs, options);
  if (mode === 'polling') return poll();
  const zmq = subscribeZmq(proxy, attribute, type, options);
  if (mode === 'zmq') return zmq;
  return new Observable<AttributeReading>((subscriber) => {
    let delivered = false;
    let inner = zmq.subscribe({
      next: (v) => {
        delivered = true;
        subscriber.next(v);
      },
      error: (e: unknown) => {
        if (delivered) {
          subscriber.error(e);
          return;
        }
        inner = poll().subscribe(subscriber);
      },
      complete: () => subscriber.complete(),
    });
    return () => inner.unsubscribe();
  });
}
