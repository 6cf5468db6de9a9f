/**
 * The transport layer: moves frames and control requests between processes (ZeroMQ, and
 * shared memory between processes on one host).
 * See `docs/transport.md`.
 * @module
 */
export * from './zmq/index.js';
export * from './shm/index.js';
export {
  createSender,
  createReceiver,
  type FrameSender,
  type FrameReceiver,
  type FrameReceiverOptions,
} from './frames.js';
