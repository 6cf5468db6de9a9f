/**
 * The Concert wire format: every frame is a two-part ZeroMQ message `[JSON header, raw pixels]`,
 * the header being `{dtype, shape, ...metadata}` with numpy's dtype names and `shape` =
 * `[height, width]`; the end of a stream is a single JSON part `{"end": true}`. This is exactly
 * what Python Concert (`send_json(header, flags=zmq.SNDMORE); send(array)`) and uca-net send.
 * Our headers add `version` ({@link WIRE_FORMAT_VERSION}), `frameNumber` and, when the sender
 * knows it, `stream`: the id of the stream the frame belongs to (also on the end marker, with
 * `frames`, the number of frames the sender sent in it). Receivers that are told which stream
 * they read drop frames and ends of any other stream (strays of a failed or cancelled one);
 * Python Concert ignores the extra keys, and its untagged messages are taken by any stream.
 *
 * Encoding never copies pixels; decoding gives a typed array over the received buffer and copies
 * only when the buffer's offset is not a multiple of the item size (or the data is big-endian).
 * Decoding never throws: a bad message comes back as `{kind: 'invalid', reason}`.
 * @module
 */
import {
  arrayConstructor,
  frameBytes,
  itemSize,
  type DType,
  type Frame,
  type FrameMetadata,
} from '../../core/frame.js';
import { errorMessage } from '../../core/errors.js';
import { TransportError } from './errors.js';

/** Version of our header (the `version` key). Headers without it (Python Concert) are accepted. */
export const WIRE_FORMAT_VERSION = 1;

/** Default cap on the payload of one frame: 512 MiB. */
export const DEFAULT_MAX_FRAME_BYTES = 512 * 1024 * 1024;

/** Default cap on the JSON header of one message: 64 KiB. */
export const DEFAULT_MAX_HEADER_BYTES = 64 * 1024;

/** The JSON header of a frame message as it travels. */
export interface FrameHeader {
  dtype: string;
  shape: number[];
  version?: number;
  frameNumber?: number;
  /** The stream the frame belongs to (our senders). */
  stream?: string;
  [key: string]: unknown;
}

/** The end-of-stream marker as it travels: `{"end": true}`, with our optional keys. */
export interface EndHeader {
  end: true;
  /** The stream that ended (our senders). */
  stream?: string;
  /** Frames the sender sent in this stream (our senders). */
  frames?: number;
  [key: string]: unknown;
}

/** Result of {@link decodeMessage}. `stream` is the header's stream id, if it has one. */
export type DecodedMessage =
  | { kind: 'frame'; frame: Frame; header: FrameHeader; stream: string | undefined }
  | { kind: 'end'; header: EndHeader; stream: string | undefined }
  | { kind: 'invalid'; reason: string };

/** Options of {@link encodeFrame}. */
export interface EncodeOptions {
  /** The stream id to put in the header (default: the frame's `metadata.stream`, if any). */
  stream?: string;
}

/** Longest accepted stream id. */
export const MAX_STREAM_ID_LENGTH = 128;

/** True for a valid stream id: a string of 1 to {@link MAX_STREAM_ID_LENGTH} characters. */
export function isStreamId(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= MAX_STREAM_ID_LENGTH;
}

/** Limits applied by {@link decodeMessage}. */
export interface DecodeOptions {
  /** Largest accepted payload in bytes (default {@link DEFAULT_MAX_FRAME_BYTES}). */
  maxFrameBytes?: number;
  /** Largest accepted JSON header in bytes (default {@link DEFAULT_MAX_HEADER_BYTES}). */
  maxHeaderBytes?: number;
  /** `frameNumber` to use when the header has none (Python senders). */
  fallbackFrameNumber?: number;
}

const RESERVED = new Set(['dtype', 'shape', 'version', 'end']);
const NAMES: Record<string, DType> = {
  uint8: 'uint8',
  int8: 'int8',
  uint16: 'uint16',
  int16: 'int16',
  uint32: 'uint32',
  int32: 'int32',
  float32: 'float32',
  float64: 'float64',
  ubyte: 'uint8',
  byte: 'int8',
  ushort: 'uint16',
  short: 'int16',
  uintc: 'uint32',
  intc: 'int32',
  single: 'float32',
  double: 'float64',
  B: 'uint8',
  b: 'int8',
  H: 'uint16',
  h: 'int16',
  I: 'uint32',
  i: 'int32',
  f: 'float32',
  d: 'float64',
};
const TYPESTR: Record<string, DType> = {
  u1: 'uint8',
  i1: 'int8',
  u2: 'uint16',
  i2: 'int16',
  u4: 'uint32',
  i4: 'int32',
  f4: 'float32',
  f8: 'float64',
};

/**
 * Parses a numpy dtype string: names (`'uint16'`), type strings (`'<u2'`, `'|u1'`, `'=f4'`,
 * `'>u2'`) and single-character codes (`'H'`).
 * @returns the dtype and whether the data is big-endian, or `undefined` if unknown.
 */
export function parseDType(text: unknown): { dtype: DType; bigEndian: boolean } | undefined {
  if (typeof text !== 'string' || text.length === 0 || text.length > 16) return undefined;
  if (Object.hasOwn(NAMES, text)) return { dtype: NAMES[text]!, bigEndian: false };
  const order = text[0]!;
  const rest = '<>=|'.includes(order) ? text.slice(1) : text;
  if (!Object.hasOwn(TYPESTR, rest)) return undefined;
  const dtype = TYPESTR[rest]!;
  if (order === '|' && itemSize(dtype) !== 1) return undefined;
  return { dtype, bigEndian: order === '>' && itemSize(dtype) > 1 };
}

/**
 * Encodes a frame as `[header, pixels]`. The pixel part is a `Buffer` view of `frame.data`'s
 * memory: zeromq.js sends buffers over 128 bytes without copying, so the frame must not be
 * mutated until the send has completed (frames are immutable once yielded anyway).
 * @throws TransportError if the metadata cannot be serialised to JSON.
 */
export function encodeFrame(frame: Frame, options: EncodeOptions = {}): [Buffer, Buffer] {
  const bytes = frameBytes(frame);
  return [Buffer.from(headerJson(frame, options)), Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)];
}

/**
 * The JSON text of a frame's header (`{...metadata, dtype, shape, version, frameNumber}`, and the
 * stream id): the first part of {@link encodeFrame}, and what other transports send beside the
 * pixels.
 * @throws TransportError if the metadata cannot be serialised to JSON.
 */
export function headerJson(frame: Frame, options: EncodeOptions = {}): string {
  try {
    const header: FrameHeader = {
      ...frame.metadata,
      dtype: frame.dtype,
      // colour (rgb24) as numpy holds it: [height, width, 3] uint8
      shape: frame.channels === 3 ? [frame.shape[0], frame.shape[1], 3] : [frame.shape[0], frame.shape[1]],
      version: WIRE_FORMAT_VERSION,
      frameNumber: frame.metadata.frameNumber,
    };
    if (options.stream !== undefined) header.stream = options.stream;
    else if (header.stream !== undefined && !isStreamId(header.stream)) delete header.stream;
    return JSON.stringify(header);
  } catch (error) {
    throw new TransportError(
      `frame ${frame.metadata.frameNumber}: metadata is not JSON-serialisable: ${errorMessage(error)}`,
      undefined,
      { cause: error },
    );
  }
}

/**
 * The end-of-stream message: a single JSON part `{"end": true}`, with `extra` keys if given
 * (our senders add `stream` and `frames`, see {@link EndHeader}; a recording adds `acquisition`).
 */
export function encodeEnd(extra?: Record<string, unknown>): [Buffer] {
  return [Buffer.from(extra ? JSON.stringify({ ...extra, end: true }) : '{"end":true}')];
}

/** Decodes one received multipart message. Never throws. */
export function decodeMessage(parts: readonly Uint8Array[], options: DecodeOptions = {}): DecodedMessage {
  const maxHeaderBytes = options.maxHeaderBytes ?? DEFAULT_MAX_HEADER_BYTES;
  if (parts.length === 0 || parts.length > 2) return invalid(`expected 1 or 2 parts, got ${parts.length}`);
  const first = parts[0]!;
  if (first.byteLength > maxHeaderBytes)
    return invalid(`header of ${first.byteLength} bytes exceeds ${maxHeaderBytes}`);
  let header: unknown;
  try {
    header = JSON.parse(Buffer.from(first.buffer, first.byteOffset, first.byteLength).toString('utf8'));
  } catch (error) {
    return invalid(`header is not JSON: ${errorMessage(error)}`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header))
    return invalid('header is not a JSON object');
  const h = header as Record<string, unknown>;
  const stream = h.stream;
  if (stream !== undefined && !isStreamId(stream))
    return invalid(
      `stream id must be a string of 1 to ${MAX_STREAM_ID_LENGTH} characters, got ${JSON.stringify(stream)?.slice(0, 40)}`,
    );
  if (parts.length === 1) return decodeEnd(h);
  if ('end' in h) return invalid('end marker with a payload part');
  return decodeFrame(h, parts[1]!, options);
}

/**
 * Checks a parsed end marker (`{"end": true}` with our optional `stream` and `frames`). Never
 * throws; shared by every transport.
 */
export function decodeEnd(h: Record<string, unknown>): DecodedMessage {
  const stream = h.stream;
  if (stream !== undefined && !isStreamId(stream))
    return invalid(
      `stream id must be a string of 1 to ${MAX_STREAM_ID_LENGTH} characters, got ${JSON.stringify(stream)?.slice(0, 40)}`,
    );
  if (h.end !== true)
    return invalid(
      'end' in h
        ? `end marker must be {"end": true}, got "end": ${JSON.stringify(h.end)?.slice(0, 40)}`
        : 'single-part message is not an end marker',
    );
  if (h.frames !== undefined && !(Number.isSafeInteger(h.frames) && (h.frames as number) >= 0))
    return invalid(`end marker: frames must be a whole number ≥ 0, got ${JSON.stringify(h.frames)?.slice(0, 40)}`);
  return { kind: 'end', header: h as EndHeader, stream: stream as string | undefined };
}

/**
 * Checks a parsed frame header against its payload and builds the frame (the pixels are a view
 * of `payload` where alignment allows). Never throws; shared by every transport.
 */
export function decodeFrame(
  h: Record<string, unknown>,
  payload: Uint8Array,
  options: DecodeOptions = {},
): DecodedMessage {
  const maxFrameBytes = options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
  const stream = h.stream;
  if (stream !== undefined && !isStreamId(stream))
    return invalid(
      `stream id must be a string of 1 to ${MAX_STREAM_ID_LENGTH} characters, got ${JSON.stringify(stream)?.slice(0, 40)}`,
    );
  if (
    h.version !== undefined &&
    !(Number.isInteger(h.version) && (h.version as number) >= 0 && (h.version as number) <= WIRE_FORMAT_VERSION)
  )
    return invalid(`unsupported format version ${JSON.stringify(h.version)}`);
  const parsed = parseDType(h.dtype);
  if (!parsed) return invalid(`unknown dtype ${JSON.stringify(h.dtype)?.slice(0, 40)}`);
  const { dtype, bigEndian } = parsed;
  const shape = h.shape;
  const colour = Array.isArray(shape) && shape.length === 3 && shape[2] === 3 && dtype === 'uint8';
  if (
    !Array.isArray(shape) ||
    (shape.length !== 2 && !colour) ||
    !shape.every((n) => Number.isSafeInteger(n) && n >= 1)
  )
    return invalid(
      'shape must be [height, width] (or [height, width, 3] for uint8 colour), whole numbers ≥ 1, ' +
        `got ${JSON.stringify(shape)?.slice(0, 60)}`,
    );
  const [height, width] = shape as [number, number];
  const channels = colour ? 3 : 1;
  const size = itemSize(dtype) * channels;
  const expected = height * width * size;
  if (!Number.isSafeInteger(expected) || expected > maxFrameBytes)
    return invalid(`shape [${height}, ${width}] ${dtype} exceeds the size cap of ${maxFrameBytes} bytes`);
  if (payload.byteLength !== expected)
    return invalid(`payload has ${payload.byteLength} bytes, shape [${height}, ${width}] ${dtype} needs ${expected}`);
  const data = pixels(dtype, payload, height * width * channels, bigEndian);
  const metadata = {} as FrameMetadata;
  for (const key in h) if (!RESERVED.has(key)) metadata[key] = h[key];
  if (typeof metadata.frameNumber !== 'number') metadata.frameNumber = options.fallbackFrameNumber ?? 0;
  if (typeof metadata.timestamp !== 'number') metadata.timestamp = Date.now();
  return {
    kind: 'frame',
    frame: { data, shape: [height, width], dtype, metadata, ...(colour ? { channels: 3 as const } : {}) },
    header: h as FrameHeader,
    stream: stream as string | undefined,
  };
}

function pixels(dtype: DType, payload: Uint8Array, length: number, bigEndian: boolean): Frame['data'] {
  const Ctor = arrayConstructor(dtype);
  const size = itemSize(dtype);
  if (!bigEndian && payload.byteOffset % size === 0) return new Ctor(payload.buffer, payload.byteOffset, length);
  const data = new Ctor(length);
  const bytes = new Uint8Array(data.buffer);
  bytes.set(payload);
  if (bigEndian) {
    if (size === 2) Buffer.from(data.buffer).swap16();
    else if (size === 4) Buffer.from(data.buffer).swap32();
    else Buffer.from(data.buffer).swap64();
  }
  return data;
}

function invalid(reason: string): DecodedMessage {
  return { kind: 'invalid', reason };
}
