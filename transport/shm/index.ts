/**
 * Shared-memory transport: frames between processes on one host through a ring in POSIX shared
 * memory (`shm://NAME` endpoints), with a doorbell on a Unix socket. The same lossless (push/pull)
 * and latest-wins (pub/sub) semantics, end markers and stream boundaries as the ZeroMQ transport.
 * Needs the optional package `shm-typed-array`; where it is missing, `shm://` fails with a
 * `TransportError` that says so.
 * @module
 */
export { ShmSender, type ShmSenderOptions } from './sender.js';
export { ShmReceiver, type ShmReceiverOptions, type ShmStreamOptions } from './receiver.js';
export { SHM_SCHEME, isShmEndpoint, parseShmEndpoint, uniqueShmEndpoint, type ShmAddress } from './endpoint.js';
export { shmAvailable } from './memory.js';
