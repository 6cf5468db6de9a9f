/**
 * Prompt release of frame buffers that live outside V8's heap.
 *
 * A frame received by zeromq.js or read from a file is a Buffer whose bytes V8 does not hold in
 * its heap, and V8 frees them only when it collects the small object that owns them. With a
 * consumer that drops each frame at once, that happens when 64 MiB of such buffers have piled up
 * and V8 starts a full collection. Every new frame then lands in memory that is cold in the
 * caches, often freshly faulted in. A young-generation collection (a scavenge, 0.1–0.5 ms) after
 * every 8 MiB frees the dropped buffers while malloc can hand the same, still cached memory to the
 * next frame: a ZeroMQ receiver of 0.5 MiB frames in a process with the session's modules about
 * doubled its rate, ReplayCamera's fast replay too; 8 MiB frames gain only in a process with a
 * small heap (bench/transport.ts, bench/video.ts; docs/transport.md). A frame still referenced
 * is not touched. Not used for Tango replies, where it cost more than it saved.
 * @module
 * @internal
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** A young-generation collection is run after this many bytes of received or read frames. */
export const RECLAIM_BYTES = 8 << 20;

type Collect = (options: { type: 'minor' }) => void;

/** Just below glibc's largest dynamic mmap threshold (DEFAULT_MMAP_THRESHOLD_MAX, 32 MiB on 64-bit). */
const GLIBC_THRESHOLD_PROBE = 31 * 1024 * 1024;
let heapTuned = false;

/**
 * Lets glibc keep freed frame buffers for reuse. Every large frame needs fresh memory (its values
 * are handed out as views, so a buffer is never reused while JavaScript may hold it), and by
 * default glibc returns freed memory to the kernel as soon as 2 × its mmap threshold is free, so
 * each new buffer page-faults its pages in again (measured for Tango replies: ~90 faults and
 * ~450 µs of kernel time per 504 KB read, against ~1 fault with the memory kept). glibc raises
 * both thresholds when a chunk larger than the current mmap threshold is freed (its documented
 * dynamic threshold): one 31 MiB buffer, dropped at once and freed by the next garbage
 * collection, makes it keep up to 62 MiB of freed memory, once per process. The servers that
 * receive frames set the same through `GLIBC_TUNABLES` (addons/remote/server-runtime.ts); this
 * is for processes already started, such as the session's. Not glibc: nothing happens.
 */
export function keepFreedMemory(): void {
  if (heapTuned) return;
  heapTuned = true;
  const header = (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)?.header;
  if (!header?.glibcVersionRuntime) return;
  Buffer.allocUnsafeSlow(GLIBC_THRESHOLD_PROBE).fill(0, 0, 1);
}

let collect: Collect | null | undefined;
let pending = 0;
let runs = 0;

/**
 * V8's `gc()`: the process's own when Node runs with `--expose-gc`, otherwise one taken from a
 * context made while the flag is on (and off again, so that later contexts, such as the REPL's,
 * do not see it). `null` where neither works.
 */
function collector(): Collect | null {
  if (collect !== undefined) return collect;
  const own = (globalThis as { gc?: unknown }).gc;
  if (typeof own === 'function') return (collect = own as Collect);
  try {
    setFlagsFromString('--expose-gc');
    const taken = runInNewContext('typeof gc === "function" ? gc : null') as unknown;
    collect = typeof taken === 'function' ? (taken as Collect) : null;
  } catch {
    collect = null;
  } finally {
    setFlagsFromString('--no-expose-gc');
  }
  return collect;
}

/**
 * Counts `bytes` of frame buffers just received or read; after every {@link RECLAIM_BYTES} runs
 * a young-generation collection, which frees the ones that consumers have dropped (and, the
 * first time, has glibc keep freed memory: {@link keepFreedMemory}).
 */
export function reclaimAfter(bytes: number): void {
  keepFreedMemory();
  pending += bytes;
  if (pending < RECLAIM_BYTES) return;
  pending = 0;
  const run = collector();
  if (!run) return;
  run({ type: 'minor' });
  runs++;
}

/** How many collections {@link reclaimAfter} has run in this process. */
export function reclaimRuns(): number {
  return runs;
}
