/**
 * The web viewer's wire format: one binary WebSocket message per image, a small JSON header then
 * one byte per pixel, already contrast-mapped on the server (see `display.ts`); the page looks
 * the bytes up in its colormap.
 *
 * Layout: `u32 n` (little-endian) · `n` bytes of UTF-8 JSON ({@link ImageHeader}) · spaces up to
 * the next multiple of 8 · `height × width` bytes.
 * @module
 * @internal
 */
import type { DType } from '../../../core/frame.js';

/** The JSON header of an image message. */
export interface ImageHeader {
  type: 'image';
  /** `camera` (LiveView frames) or `slice` (reconstructed slices). */
  panel: 'camera' | 'slice';
  /** Acquisition name (camera) or slice name. */
  name: string;
  /** The frame's own dtype (the pixels sent are bytes). */
  dtype: DType;
  /** `[height, width]` of the pixels sent. */
  shape: [number, number];
  /** `[height, width]` of the frame before binning. */
  originalShape: [number, number];
  /** Binning factor (1: every pixel sent). */
  bin: number;
  /** The contrast limits: byte 0 is `lo` (and below), byte 255 is `hi` (and above). */
  lo: number;
  hi: number;
  frameNumber: number;
  /** The frame's timestamp (ms since the epoch; may be fractional). */
  timestamp: number;
  /** When the message was sent (`performance.timeOrigin + performance.now()`). */
  sentAt: number;
  /** Frames this client did not get (replaced by newer ones, or dropped upstream). */
  dropped: number;
  /** Increases with every image of this panel and name. */
  seq: number;
}

/** Length prefix, JSON and padding so that the pixels start at a multiple of 8 bytes. */
export function headBytes(header: ImageHeader): Uint8Array {
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const total = Math.ceil((4 + json.length) / 8) * 8;
  const head = Buffer.alloc(total, 0x20);
  head.writeUInt32LE(json.length, 0);
  json.copy(head, 4);
  return head;
}

/** Splits a received message into header and pixels (the page does the same in JavaScript). */
export function decodeImage(message: Uint8Array): { header: ImageHeader; pixels: Uint8Array } {
  const view = new DataView(message.buffer, message.byteOffset, message.byteLength);
  const n = view.getUint32(0, true);
  const header = JSON.parse(Buffer.from(message.buffer, message.byteOffset + 4, n).toString('utf8')) as ImageHeader;
  const offset = Math.ceil((4 + n) / 8) * 8;
  const pixels = message.slice(offset, offset + header.shape[0] * header.shape[1]);
  return { header, pixels };
}
