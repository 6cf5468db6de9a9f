/**
 * `Atomics` with `waitAsync` typed (ES2024; present in Node ≥ 16, missing from the ES2023 lib).
 * @module
 * @internal
 */

type WaitAsyncResult =
  { async: false; value: 'not-equal' | 'timed-out' } | { async: true; value: Promise<'ok' | 'timed-out'> };

/** The global `Atomics`, with `waitAsync`. @internal */
export const Atomics = globalThis.Atomics as typeof globalThis.Atomics & {
  waitAsync?: (array: Int32Array, index: number, value: number, timeout?: number) => WaitAsyncResult;
};

/**
 * Resolves once `array[index]` is no longer `value` (or after `timeoutMs`). Uses
 * `Atomics.waitAsync` where available, else polls.
 * @internal
 */
export async function waitChange(array: Int32Array, index: number, value: number, timeoutMs = 1000): Promise<void> {
  if (Atomics.waitAsync !== undefined) {
    const r = Atomics.waitAsync(array, index, value, timeoutMs);
    if (r.async) await r.value;
    return;
  }
  await new Promise((resolve) => setTimeout(resolve, 1));
}
