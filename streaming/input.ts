/**
 * What a streaming step reads, whatever the source: items with a key (unique within the input,
 * stable across restarts, so that a resumed step skips what its set already has), an index, and
 * the value (or a way to load it).
 * @module
 * @internal
 */
import type { Producer } from '../core/producer.js';
import { StreamingError } from './errors.js';
import { now, type CloseReason } from './item.js';
import type { OutputSet } from './output-set.js';

/** One item of an input. */
export interface InputItem<I> {
  readonly key: string;
  /** Its position in the input; undefined: the step numbers items in the order it takes them. */
  readonly index: number | undefined;
  /** Gets the value (a set input loads it only for items the step does not skip). */
  readonly load: () => I | Promise<I>;
  /** When it became available (ms since the epoch). */
  readonly receivedAt: number;
}

/** A source of input items for a step. */
export interface StepInput<I> {
  /** For messages and set files: `directory /data/in (*.tif)`, `set 'read'`, `a producer`. */
  readonly description: string;
  /** The reason the step's set closes with when the input ends. */
  readonly endReason: Extract<CloseReason, 'input-ended' | 'input-closed'>;
  /** The set read, for a set input (its STOP file and its failure). */
  readonly upstream?: OutputSet<unknown>;
  /** Items until the input ends; stops when `signal` aborts. */
  items(signal: AbortSignal): AsyncIterable<InputItem<I>>;
  /**
   * The value of the item of `key` again, to compute a released value once more.
   * @throws StreamingError if the input cannot give it again.
   */
  reload(key: string): Promise<I>;
}

/** Something that can be a step's input: a set, a directory watcher (both implement this). */
export interface StepSource<I> {
  /** @internal */
  toStepInput(): StepInput<I>;
}

/** A step input from an output set: its done items (failed ones are not passed on); key = upstream index. */
export function setInput<T>(set: OutputSet<T>): StepInput<T> {
  return {
    description: `set '${set.name}'${set.file ? ` (${set.file})` : ''}`,
    endReason: 'input-closed',
    upstream: set as OutputSet<unknown>,
    async *items(signal) {
      const reader = set.reader({ hold: true });
      const stop = () => void reader.return();
      signal.addEventListener('abort', stop, { once: true });
      try {
        for await (const item of reader) {
          if (item.status !== 'done') continue;
          // The reader's copy holds the value it had when taken (the set may release its own since).
          yield {
            key: String(item.index),
            index: item.index,
            load: () => (item.value !== undefined ? item.value : set.valueOf(item)),
            receivedAt: item.finishedAt,
          };
        }
      } finally {
        signal.removeEventListener('abort', stop);
        await reader.return();
      }
    },
    async reload(key) {
      return set.valueOf(Number(key));
    },
  };
}

/** A step input from a producer: key = the index, or what `key` says. */
export function producerInput<I>(producer: Producer<I>, key?: (value: I, index: number) => string): StepInput<I> {
  return {
    description: 'a producer',
    endReason: 'input-ended',
    async *items(signal) {
      let index = 0;
      for await (const value of producer(signal)) {
        const i = index++;
        yield { key: key ? key(value, i) : String(i), index: i, load: () => value, receivedAt: now() };
      }
    },
    reload(k) {
      return Promise.reject(new StreamingError(`the producer cannot give input ${k} again`));
    },
  };
}

/** True if `value` can give a step input. */
export function isStepSource(value: unknown): value is StepSource<unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Partial<StepSource<unknown>>).toStepInput === 'function'
  );
}
