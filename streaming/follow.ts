/**
 * Follows a set file that another process writes: yields the items as they are committed and
 * ends once the set is closed. Wakes on changes of the file (`fs.watch` on its directory) and
 * polls as well, for file systems that report no changes.
 * @module
 * @internal
 */
import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { SetFile, SetMeta, StoredItem } from './set-file.js';

/** One look at the file: the items new since the last one, and the file's state. */
export interface SetUpdate {
  readonly items: StoredItem[];
  readonly meta: SetMeta;
}

/** Options of {@link followSetFile}. */
export interface FollowOptions {
  /** First item index to yield (default 0). */
  from?: number;
  /** Longest wait between two looks when no change is reported (default 250 ms). */
  pollMs?: number;
  signal?: AbortSignal;
}

/**
 * Yields an update whenever new items were committed (the first update at once, even if empty),
 * and a last one when the set is closed; then ends. Ends quietly when `signal` aborts.
 */
export async function* followSetFile(file: SetFile, options: FollowOptions = {}): AsyncGenerator<SetUpdate> {
  const { pollMs = 250, signal } = options;
  let next = options.from ?? 0;
  let wake: (() => void) | undefined;
  const poke = () => wake?.();
  let watcher: FSWatcher | undefined;
  try {
    const name = basename(file.path);
    watcher = watch(dirname(file.path), { persistent: false }, (_event, changed) => {
      if (changed === null || String(changed).startsWith(name)) poke();
    });
    watcher.on('error', () => undefined);
  } catch {
    watcher = undefined; // polling alone
  }
  signal?.addEventListener('abort', poke, { once: true });
  try {
    let first = true;
    for (;;) {
      if (signal?.aborted) return;
      // The state first: a writer commits every item before it marks the set closed.
      const meta = file.meta();
      const items = file.items(next);
      if (items.length > 0) next = items[items.length - 1]!.index + 1;
      if (items.length > 0 || first || meta.state === 'closed') yield { items, meta };
      first = false;
      if (meta.state === 'closed') return;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, pollMs);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      wake = undefined;
    }
  } finally {
    signal?.removeEventListener('abort', poke);
    watcher?.close();
  }
}
