/**
 * The items of an output set, their states and the JSON record each one is persisted as.
 * @module
 */
import { preciseNow } from '../core/clock.js';
import { isDType, type Frame } from '../core/frame.js';

/** A JSON value, as stored in a set file. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** `open` while items may still come; `closed` once a stop criterion closed the set. */
export type SetState = 'open' | 'closed';

/** Why a set was closed (the stop criterion that won, or the failure). */
export type CloseReason =
  'count' | 'idle' | 'duration' | 'input-ended' | 'input-closed' | 'stopped' | 'stop-file' | 'failed';

/** How and when a set was closed. */
export interface CloseInfo {
  readonly reason: CloseReason;
  /** Milliseconds since the Unix epoch. */
  readonly at: number;
  /** One line for people: `count: 500 items`, `idle: no new item for 2000 ms`, the failure. */
  readonly message: string;
}

/** One result of a step, registered when it completed (done or failed). */
export interface OutputItem<T> {
  /** 0-based position in the set: the order in which items completed. */
  readonly index: number;
  /** 0-based position of the input item in the step's input (the upstream set index for a set input). */
  readonly inputIndex: number;
  /**
   * Identity of the input item, unique in a set (the file name for a directory, the upstream
   * index for a set, the frame number for frames): a resumed step skips keys already in its set.
   */
  readonly inputKey: string;
  readonly status: 'done' | 'failed';
  /**
   * The result. `undefined` for a failed item, and once released: the set keeps values only
   * while a chained step still needs them plus the newest `keepValues`, except values that are
   * their own record (plain JSON), which stay. {@link OutputSet.valueOf} computes a released value again.
   */
  readonly value: T | undefined;
  /** What is persisted: the value itself if it is plain JSON; a frame's shape, dtype and metadata. */
  readonly record: JsonValue;
  /** Why it failed (the last attempt's error message). */
  readonly error?: string;
  /** Attempts made (1 + retries used). */
  readonly attempts: number;
  /** When the input item became available (ms since the epoch, sub-ms resolution). */
  readonly receivedAt: number;
  /** When the first attempt started. */
  readonly startedAt: number;
  /** When the item was registered (committed, if persisted). */
  readonly finishedAt: number;
}

/** Milliseconds since the Unix epoch with sub-millisecond resolution ({@link preciseNow}). */
export const now = preciseNow;

/** True if `value` looks like a {@link Frame} (typed-array data, a 2-D shape and a dtype). */
export function isFrame(value: unknown): value is Frame {
  if (typeof value !== 'object' || value === null) return false;
  const f = value as Partial<Frame>;
  return ArrayBuffer.isView(f.data) && Array.isArray(f.shape) && f.shape.length === 2 && isDType(f.dtype);
}

/**
 * The JSON record of a value and whether the record is the value itself (plain JSON: numbers,
 * strings, booleans, null, arrays and plain objects of them). Frames become
 * `{ frame: { shape, dtype, metadata } }`, typed arrays and buffers `{ bytes, type }`; `undefined`
 * becomes null.
 * @throws TypeError for values JSON cannot hold (a bigint, a cycle).
 */
export function toRecord(value: unknown): { record: JsonValue; own: boolean } {
  if (typeof value === 'string' || typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value)))
    return { record: value, own: true };
  let own = true;
  const seen = new Set<object>();
  const walk = (v: unknown): JsonValue => {
    if (v === undefined || v === null) return null;
    if (typeof v === 'number') return Number.isFinite(v) ? v : ((own = false), String(v) as JsonValue);
    if (typeof v === 'string' || typeof v === 'boolean') return v;
    if (typeof v === 'bigint') throw new TypeError(`a bigint (${v}n) cannot be stored as JSON`);
    if (typeof v === 'function' || typeof v === 'symbol') {
      own = false;
      return null;
    }
    const o = v as object;
    if (seen.has(o)) throw new TypeError('a value with a cycle cannot be stored as JSON');
    seen.add(o);
    try {
      if (isFrame(o)) {
        own = false;
        return { frame: { shape: [...o.shape], dtype: o.dtype, metadata: walk(o.metadata) } };
      }
      if (ArrayBuffer.isView(o) || o instanceof ArrayBuffer || o instanceof SharedArrayBuffer) {
        own = false;
        return { bytes: o.byteLength, type: o.constructor.name };
      }
      if (o instanceof Date) {
        own = false;
        return o.toISOString();
      }
      if (Array.isArray(o)) return o.map((x) => walk(x === undefined ? null : x));
      const proto = Object.getPrototypeOf(o) as unknown;
      if (proto !== Object.prototype && proto !== null) own = false;
      const out: Record<string, JsonValue> = {};
      for (const [k, x] of Object.entries(o)) if (x !== undefined) out[k] = walk(x);
      return out;
    } finally {
      seen.delete(o);
    }
  };
  const record = walk(value);
  return { record, own };
}
