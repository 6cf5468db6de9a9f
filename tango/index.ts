/**
 * Native Tango client: CORBA GIOP 1.2/IIOP with CDR encoding and the Tango IDL (Device_5), plus
 * ZeroMQ events. No Python or C++ at run time.
 * @module
 */
export { DeviceProxy, parseTangoAddress } from './device-proxy.js';
export type { DeviceProxyOptions, TangoAddress } from './device-proxy.js';
export { TangoError, TangoTransportError, TangoTimeoutError, TangoProtocolError } from './errors.js';
export type { DevError, ErrSeverity } from './errors.js';
export { DEV_STATES, TangoType, tangoTypeName } from './idl-types.js';
export type {
  AttributeConfig,
  AttrDataFormat,
  AttrQuality,
  AttrWriteType,
  CommandInfo,
  DevInfo,
  DevState,
} from './idl-types.js';
export type {
  AttributeReading,
  AttrValue,
  ArrayValue,
  ScalarValue,
  EncodedValue,
  WriteValue,
} from './attribute-value.js';
export { parseIor, stringifyIor } from './ior.js';
export type { Ior, IiopProfile } from './ior.js';
export { subscribeAttribute, pollAttribute } from './events.js';
export type { EventType, SubscribeOptions } from './events.js';
export { CdrReader, CdrWriter, CdrError } from './cdr.js';
export { DEFAULT_TIMEOUT_MS } from './giop.js';
