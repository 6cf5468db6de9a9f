/**
 * How Node is started for a server that receives frames (writer, live, benchmarker, reco): the
 * process settings that make a ZeroMQ receiver of large frames cheaper, measured in
 * bench/transport.ts (docs/transport.md).
 *
 * - `--single-threaded-gc`: every received frame is an external buffer of zeromq.js; V8 collects
 *   them with full GCs whose helper threads compete for the host's cores with the sender and
 *   ZeroMQ's I/O thread. Done on the main thread, the receiver's CPU per frame falls by ~25 %.
 * - glibc keeps freed frame buffers for reuse instead of giving them back to the kernel and
 *   faulting fresh zero-filled pages in for the next frame (`mmap_threshold` above an 8 MiB
 *   frame, a large `trim_threshold`).
 *
 * Camera servers keep Node's defaults: they send, and their timing at a start instant is what the
 * conductor's start skew measures.
 * @module
 */

/** Node options of a frame-receiving server process. */
export const RECEIVER_NODE_OPTIONS: readonly string[] = ['--single-threaded-gc'];

/** glibc malloc tunables of a frame-receiving server process. */
export const RECEIVER_MALLOC_TUNABLES = 'glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=1073741824';

/** Whether a server of `kind` receives frames (and is started with the receiver's settings). */
export function receivesFrames(kind: string): boolean {
  return kind !== 'camera';
}

/**
 * How to start Node for a server process: the receiver's options and environment when it
 * `receives` frames, Node's defaults (no options, this process's environment) otherwise.
 */
export function serverProcess(receives: boolean): { nodeOptions: readonly string[]; env: NodeJS.ProcessEnv } {
  return receives ? { nodeOptions: RECEIVER_NODE_OPTIONS, env: receiverEnv() } : { nodeOptions: [], env: process.env };
}

/**
 * The environment of a frame-receiving server: `env` with the malloc tunables added to any
 * `GLIBC_TUNABLES` already set (the user's own settings come last and win).
 */
export function receiverEnv(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const own = env.GLIBC_TUNABLES;
  return { ...env, GLIBC_TUNABLES: own ? `${RECEIVER_MALLOC_TUNABLES}:${own}` : RECEIVER_MALLOC_TUNABLES };
}
