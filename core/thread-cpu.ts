/**
 * CPU time of the calling thread. `process.cpuUsage()` counts every thread of the process, so a
 * worker that times its own work with it also counts what the main thread did meanwhile; on
 * Linux this reads the thread's own clock from `/proc/thread-self/schedstat` (nanoseconds).
 * @module
 */
import { closeSync, openSync, readSync } from 'node:fs';

let fd: number | undefined | null;
const buffer = Buffer.alloc(64);

/**
 * CPU time the calling thread has used, in ms (Linux: that thread only, a few µs per call;
 * elsewhere: the whole process, as `process.cpuUsage()`).
 */
export function threadCpuMs(): number {
  if (fd === undefined) {
    try {
      fd = openSync('/proc/thread-self/schedstat', 'r'); // per thread: each worker opens its own
    } catch {
      fd = null;
    }
  }
  if (fd !== null) {
    try {
      const n = readSync(fd, buffer, 0, buffer.length, 0);
      const ns = Number(buffer.toString('latin1', 0, n).split(' ', 1)[0]);
      if (Number.isFinite(ns)) return ns / 1e6;
    } catch {
      closeSync(fd);
      fd = null;
    }
  }
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
}

/** True if {@link threadCpuMs} measures the calling thread alone (not the whole process). */
export function threadCpuIsPerThread(): boolean {
  threadCpuMs();
  return fd !== null;
}
