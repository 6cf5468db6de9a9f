/**
 * The buffers of a worker's result that can be moved to the main thread instead of copied.
 * @module
 * @internal
 */
import { isFrame } from './item.js';

/**
 * The distinct, transferable `ArrayBuffer`s a value holds (the worker must not use them after
 * returning): its own if it is one, a typed array's,
 * a frame's pixels, and those of the values of a plain object or array (one level deep).
 */
export function transferables(value: unknown): ArrayBuffer[] {
  const found = new Set<ArrayBuffer>();
  // Only a view that spans its whole buffer: a view into a larger one (Node's Buffer pool, a
  // slice of a cache) would move memory that other values still use.
  const whole = (v: ArrayBufferView) =>
    v.buffer instanceof ArrayBuffer &&
    v.byteOffset === 0 &&
    v.byteLength === v.buffer.byteLength &&
    !Buffer.isBuffer(v);
  const add = (v: unknown) => {
    if (v instanceof ArrayBuffer) found.add(v);
    else if (ArrayBuffer.isView(v) && whole(v)) found.add(v.buffer as ArrayBuffer);
    else if (isFrame(v) && whole(v.data)) found.add(v.data.buffer as ArrayBuffer);
  };
  add(value);
  if (found.size === 0 && typeof value === 'object' && value !== null)
    for (const v of Array.isArray(value) ? value : Object.values(value)) add(v);
  return [...found];
}
