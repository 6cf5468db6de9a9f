/**
 * Remote addons (their servers run in other processes; frames go straight from a remote camera
 * to them) and the servers themselves.
 * @module
 */
export * from './addon.js';
export * from './benchmarker.js';
export * from './client.js';
export * from './image-writer.js';
export * from './live-view.js';
export * from './protocol.js';
export { StreamServer, type StreamServerOptions, type StreamSink } from './server/stream-server.js';
export { WriterServer, type WriterServerOptions } from './server/writer.js';
export { LiveServer, type LiveServerOptions } from './server/live.js';
export { BenchmarkerServer, type StreamTiming } from './server/benchmarker.js';
export * from './broadcast.js';
export { spawnServer, type ServerProcess } from './spawn.js';
export {
  RECEIVER_MALLOC_TUNABLES,
  RECEIVER_NODE_OPTIONS,
  receiverEnv,
  receivesFrames,
  serverProcess,
} from './server-runtime.js';
export * from './online-reconstruction.js';
export { RecoServer, type RecoServerOptions } from './server/reco.js';
