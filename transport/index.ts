/**
 * The transport layer: moves frames and control requests between processes.
 * See `docs/transport.md`.
 * @module
 */
export * from './zmq/index.js';
