/**
 * The Concert recording format (`.clog`), version 1: a header, then length-prefixed records, each
 * a receive timestamp plus a message as the ZeroMQ wire format carries it (`transport/zmq/
 * wire-format.ts` encodes and decodes those; nothing here duplicates it). See
 * `docs/recording.md` for the layout and the rules readers follow.
 * @module
 */

/** The first 8 bytes of a recording: `\x89CLOG\r\n\x1a` (catches 7-bit transfers and newline conversion, as PNG does). */
export const LOG_MAGIC = Buffer.from([0x89, 0x43, 0x4c, 0x4f, 0x47, 0x0d, 0x0a, 0x1a]);

/** The version this code writes and the newest it reads. */
export const LOG_FORMAT_VERSION = 1;

/** Bytes before the header's JSON: magic, u16 version, u16 reserved, u32 JSON length. */
export const FILE_HEAD_BYTES = 16;

/** Bytes of a record's fixed part: f64 receive time, u8 kind, 3 reserved, u32 wire header length. */
export const RECORD_HEAD_BYTES = 16;

/** The u32 length before every record. */
export const LENGTH_PREFIX_BYTES = 4;

/** What a record holds. */
export const RecordKind = {
  /** A frame: wire header (JSON) and raw pixels. */
  frame: 1,
  /** A single-part wire message, e.g. the end of a stream `{"end": true}`. */
  end: 2,
  /** A websocket text message (UTF-8 payload, no header). */
  text: 3,
  /** A websocket binary message (payload, no header). */
  binary: 4,
  /** The last record of a log closed cleanly: a JSON header with the totals, no payload. */
  trailer: 255,
} as const;
export type RecordKindCode = (typeof RecordKind)[keyof typeof RecordKind];

/** Where a recording's messages came from. */
export interface LogSource {
  /** `acquisition` (frames of a local acquisition), `zmq` (a ZeroMQ stream), `websocket`. */
  kind: 'acquisition' | 'zmq' | 'websocket';
  /** Human-readable: the endpoint, URI or acquisition names. */
  description: string;
  [key: string]: unknown;
}

/** The JSON header of a recording. */
export interface LogHeader {
  /** When the recording started, ms since the Unix epoch. */
  startTime: number;
  /** The same as an ISO 8601 string, for people reading the file with a hex viewer. */
  startTimeIso: string;
  source: LogSource;
  /** The wire format version of the frame headers (`WIRE_FORMAT_VERSION`). */
  wireFormatVersion: number;
  /** The Concert version that wrote the file. */
  writer: string;
  [key: string]: unknown;
}

/** The totals a clean close writes into the trailer. */
export interface LogTrailer {
  records: number;
  frames: number;
  /** ms since the Unix epoch. */
  stoppedAt: number;
}

/** The offset of a record's payload from the record's start: after the wire header, aligned to 8 bytes. */
export function payloadOffset(headerBytes: number): number {
  return align8(RECORD_HEAD_BYTES + headerBytes);
}

/** `n` rounded up to a multiple of 8. */
export function align8(n: number): number {
  return (n + 7) & ~7;
}
