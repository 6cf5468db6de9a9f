/**
 * Reporting messages of another stream that a receiver dropped (shared by every transport).
 * @module
 * @internal
 */
import type { Frame } from '../../core/frame.js';

/** A dropped frame or end marker, and the stream it belongs to. */
export type StrayItem =
  { kind: 'frame'; frame: Frame; stream: string | undefined } | { kind: 'end'; stream: string | undefined };

/**
 * Tells `onStray` why the `n`-th stray was dropped (a faulty callback cannot stop the stream), or
 * without one warns on the console for the first 5 and then every 100th, naming `receiver`.
 */
export function reportStray(
  item: StrayItem,
  id: string,
  n: number,
  onStray: ((reason: string) => void) | undefined,
  receiver: string,
): void {
  const what = item.kind === 'end' ? 'end marker' : `frame ${item.frame.metadata.frameNumber}`;
  const reason = `${what} of stream '${item.stream}' while reading stream '${id}'`;
  if (onStray) {
    try {
      onStray(reason);
    } catch {
      // a faulty callback must not stop the stream
    }
  } else if (n <= 5 || n % 100 === 0) {
    console.warn(`${receiver}: dropped stray #${n}: ${reason}`);
  }
}
