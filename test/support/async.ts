/**
 * Small async helpers for bounded tests.
 * @module
 */
import assert from 'node:assert/strict';
import { errorMessage } from '../../core/index.js';

/** Milliseconds since `t0` (from `performance.now()`). */
export function since(t0: number): number {
  return performance.now() - t0;
}

/** Resolves after `ms` (no abort: test-side waiting only). */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Rejects with a clear message if `promise` does not settle within `ms`. */
export async function within<T>(ms: number, promise: Promise<T>, what = 'operation'): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Asserts that `promise` rejects with an error of class `type` whose message matches `message` (if given); returns the error. */
export async function rejectsWith<E extends Error>(
  promise: Promise<unknown> | (() => Promise<unknown>),
  type: abstract new (...args: never[]) => E,
  message?: RegExp | string,
): Promise<E> {
  let caught: unknown;
  try {
    await (typeof promise === 'function' ? promise() : promise);
  } catch (error) {
    caught = error;
  }
  assert.ok(caught !== undefined, `expected ${type.name}, but it resolved`);
  assert.ok(caught instanceof type, `expected ${type.name}, got ${(caught as Error)?.name}: ${errorMessage(caught)}`);
  if (typeof message === 'string') assert.equal(errorMessage(caught), message);
  else if (message) assert.match(errorMessage(caught), message);
  return caught as E;
}

/** Synchronous counterpart of {@link rejectsWith}. */
export function throwsWith<E extends Error>(
  fn: () => unknown,
  type: abstract new (...args: never[]) => E,
  message?: RegExp | string,
): E {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  assert.ok(caught !== undefined, `expected ${type.name}, but nothing was thrown`);
  assert.ok(caught instanceof type, `expected ${type.name}, got ${(caught as Error)?.name}: ${errorMessage(caught)}`);
  if (typeof message === 'string') assert.equal(errorMessage(caught), message);
  else if (message) assert.match(errorMessage(caught), message);
  return caught as E;
}
