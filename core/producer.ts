/**
 * Bridges an abortable async producer (`(signal) => AsyncIterable<T>`) to an RxJS Observable that
 * aborts the producer as soon as the last subscriber unsubscribes (unlike `from(asyncGenerator)`,
 * which notices only when the next value arrives).
 * @module
 */
import type { Observable } from 'rxjs';
import { rxjs } from './rx.js';
import { isAbortError } from './errors.js';

/** A source of frames (or anything): called once per run with a signal that stops it. */
export type Producer<T> = (signal: AbortSignal) => AsyncIterable<T>;

/** An Observable that runs `producer` on subscribe and aborts it on unsubscribe. */
export function fromProducer<T>(producer: Producer<T>): Observable<T> {
  return new (rxjs().Observable<T>)((subscriber) => {
    const controller = new AbortController();
    (async () => {
      try {
        for await (const value of producer(controller.signal)) {
          if (controller.signal.aborted) break;
          subscriber.next(value);
        }
        subscriber.complete();
      } catch (error) {
        if (controller.signal.aborted && isAbortError(error)) subscriber.complete();
        else subscriber.error(error);
      }
    })();
    return () => controller.abort(new DOMException('unsubscribed', 'AbortError'));
  });
}
