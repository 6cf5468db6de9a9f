/**
 * Attribute events as RxJS Observables: the server's ZeroMQ event channel when it offers one
 * (set up through the admin device's `ZmqEventSubscriptionChange` command), else client-side
 * polling.
 * @module
 */
import { Observable } from 'rxjs';
import type { AttributeReading } from './attribute-value.js';
import type { DeviceProxy } from './device-proxy.js';
import { subscribeZmq } from './zmq-events.js';
import { startTimer, type Timer } from '../core/index.js';

/** Event kinds. */
export type EventType = 'change' | 'periodic';

/** Options of {@link subscribeAttribute}. */
export interface SubscribeOptions {
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

/** Client-side polling: reads the attribute every period; `'change'` emits only changes. */
export function pollAttribute(
  proxy: DeviceProxy,
  attribute: string,
  type: EventType,
  periodMs = 500,
): Observable<AttributeReading> {
  return new Observable<AttributeReading>((subscriber) => {
    let last: AttributeReading | undefined;
    let timer: Timer | undefined;
    let stopped = false;
    const tick = async (): Promise<void> => {
      try {
        const r = await proxy.readAttribute(attribute);
        if (stopped) return;
        if (type === 'periodic' || changed(last, r)) subscriber.next(r);
        last = r;
        timer = startTimer(periodMs, () => void tick());
      } catch (e) {
        if (!stopped) subscriber.error(e);
      }
    };
    void tick();
    return () => {
      stopped = true;
      timer?.cancel();
    };
  });
}

/**
 * Subscribes to `change` or `periodic` events of an attribute. Errors (server gone, DevFailed)
 * end the stream; use rxjs `retry` to keep going.
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
  if (mode === 'polling') return pollAttribute(proxy, attribute, type, options.pollingPeriodMs);
  const zmq = subscribeZmq(proxy, attribute, type);
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
        inner = pollAttribute(proxy, attribute, type, options.pollingPeriodMs).subscribe(subscriber);
      },
      complete: () => subscriber.complete(),
    });
    return () => inner.unsubscribe();
  });
}
