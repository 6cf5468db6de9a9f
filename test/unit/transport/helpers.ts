/** Test helpers for the transport tests: socket cleanup and deterministic frames. */
import { arrayConstructor, makeFrame, type DType, type Frame, type FrameMetadata } from '../../../core/frame.js';

/** Tracks everything a test opens; `closeAll()` in `afterEach`. */
export class Closer {
  #items: { close(): void }[] = [];
  track<T extends { close(): void }>(item: T): T {
    this.#items.push(item);
    return item;
  }
  closeAll(): void {
    for (const item of this.#items.splice(0)) {
      try {
        item.close();
      } catch {
        // already closed
      }
    }
  }
}

/** A frame whose pixel i is a deterministic function of (i, seed), with room in every dtype. */
export function testFrame<D extends DType>(
  dtype: D,
  height: number,
  width: number,
  seed = 1,
  metadata: Partial<FrameMetadata> = {},
): Frame<D> {
  const data = new (arrayConstructor(dtype))(height * width);
  for (let i = 0; i < data.length; i++) {
    const v = (i * 7 + seed * 13) % 100;
    (data as { [i: number]: number })[i] = dtype.startsWith('float') ? v + 0.25 : dtype.startsWith('int') ? v - 50 : v;
  }
  return makeFrame(data, [height, width], { frameNumber: seed, ...metadata });
}

/** Resolves after `ms`. */
export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs `fn` and returns the error it throws/rejects with (fails if it does not). */
export async function rejection(fn: () => Promise<unknown>): Promise<Error> {
  try {
    await fn();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
}
