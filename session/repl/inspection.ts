/**
 * How values print at the prompt: quantities as `2 mm` (also inside objects and arrays) instead of
 * mathjs' internal structure; devices, parameters, experiments, acquisitions, addons, walkers and
 * frames by their own short `util.inspect` forms (declared on the classes), with the values of a
 * device or parameter read just before it is printed; a pending promise as a hint to add `await`.
 * @module
 * @internal
 */
import type { REPLServer } from 'node:repl';
import { inspect } from 'node:util';
import { describeFrame, format, isFrame, math, Parameter, Parameterizable, type Unit } from '../../core/index.js';

/** How long the prompt waits for a device's values before printing what it knows (ms). */
export const READ_FOR_DISPLAY_MS = 500;

/** Makes `util.inspect` (the REPL's printer) show quantities as `format()` does. */
export function installQuantityInspection(): void {
  Object.defineProperty(math.Unit.prototype, inspect.custom, {
    configurable: true,
    value(this: Unit) {
      return format(this);
    },
  });
}

/** The fields node's async hooks put on promises made at the prompt (noise in what is printed). */
const asyncHookFields =
  /,\s*\[Symbol\((?:async_id_symbol|trigger_async_id_symbol|kResourceStore)\)\]: (?:\d+|AbortSignal \{ aborted: (?:true|false) \}|undefined)/g;

/** What the prompt prints for a promise that has not settled yet. */
export const PENDING_PROMISE = 'a Promise (still pending): add `await` to wait for its value';

/**
 * The text the prompt prints for `value`: a pending promise says to add `await`; a frame made
 * without `makeFrame()` prints as one; everything else as node's REPL prints it.
 */
export function displayValue(value: unknown, fallback: (value: unknown) => string): string {
  if (value instanceof Promise) {
    const text = inspect(value, { depth: 2, breakLength: Infinity }).replace(asyncHookFields, '');
    return text.startsWith('Promise { <pending>') ? PENDING_PROMISE : text;
  }
  if (isFrame(value) && !Object.hasOwn(value, inspect.custom)) return describeFrame(value);
  return fallback(value);
}

/** Prints results through {@link displayValue}. */
export function installDisplay(server: REPLServer): void {
  const writer = server.writer;
  (server as { writer: (value: unknown) => string }).writer = (value) => displayValue(value, writer);
}

/**
 * Reads the current values of a device (every parameter) or of a parameter before the prompt
 * prints it, so its printed form shows them; gives up after {@link READ_FOR_DISPLAY_MS} (the form
 * then shows what was known). Never throws.
 */
export async function readForDisplay(value: unknown): Promise<void> {
  let reading: Promise<unknown> | undefined;
  if (value instanceof Parameterizable) reading = value.snapshot();
  else if (value instanceof Parameter && value.readable) reading = value.get();
  if (!reading) return;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    reading.catch(() => undefined),
    new Promise((resolve) => (timer = setTimeout(resolve, READ_FOR_DISPLAY_MS))),
  ]);
  clearTimeout(timer);
}
