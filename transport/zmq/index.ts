/**
 * ZeroMQ transport: the Concert wire format, frame senders and receivers, the JSON control
 * channel, CURVE keys and endpoint helpers. The only module that imports `zeromq`.
 * @module
 */
export { TransportError, RemoteError } from './errors.js';
export {
  WIRE_FORMAT_VERSION,
  DEFAULT_MAX_FRAME_BYTES,
  DEFAULT_MAX_HEADER_BYTES,
  parseDType,
  encodeFrame,
  encodeEnd,
  headerJson,
  decodeMessage,
  decodeFrame,
  isStreamId,
  MAX_STREAM_ID_LENGTH,
  type EncodeOptions,
  type EndHeader,
  type FrameHeader,
  type DecodedMessage,
  type DecodeOptions,
} from './wire-format.js';
export {
  ZmqSender,
  type SenderMode,
  type ZmqSenderOptions,
  type SendOptions,
  type EndOptions,
  type SenderCounters,
} from './sender.js';
export {
  ZmqReceiver,
  type ReceiverMode,
  type ZmqReceiverOptions,
  type StreamOptions,
  type ReceiverCounters,
} from './receiver.js';
export {
  ControlServer,
  ControlClient,
  type ControlRequest,
  type ControlReply,
  type ControlHandler,
  type ControlServerOptions,
  type ControlClientOptions,
  type RequestOptions,
} from './control.js';
export {
  generateKeyPair,
  writeKeyPair,
  readKey,
  readKeyPair,
  ensureKeyPairs,
  curveServerOptions,
  curveClientOptions,
  zcurve,
  type CurveKeyPair,
  type CurveOptions,
  type CurveServerOptions,
  type CurveClientOptions,
} from './curve.js';
export { DEFAULT_HOST, tcpEndpoint, freePort, uniqueIpcEndpoint } from './endpoints.js';
export type { Placement } from './internal.js';
export {
  EventPublisher,
  EventSubscriber,
  type ZmqEvent,
  type EventPublisherOptions,
  type EventSubscriberOptions,
} from './events.js';
export * from './zap.js';
