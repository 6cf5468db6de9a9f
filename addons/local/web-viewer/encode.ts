/**
 * The web viewer's wire format: one binary WebSocket message per image, a small JSON header then
 * the raw pixels (little-endian, as the typed array holds them), so the page can do contrast and
 * colormaps itself. Large frames are binned server-side to at most `maxSize` on the long side.
 *
 * Layout: `u32 n` (little-endian) · `n` bytes of UTF-8 JSON ({@link ImageHeader}) · spaces up to
 * the next multiple of 8 · `height × width` pixels of `dtype`.
 * @module
 * @internal
 */
// core/frame.js, not the core barrel: this runs on the server thread, which should not load mathjs.
import { arrayConstructor, type DType, type Frame, type PixelArray } from '../../../core/frame.js';

/** The dtypes the page understands (float64 is sent as float32). */
export type WireDType = Exclude<DType, 'float64'>;

/** The JSON header of an image message. */
export interface ImageHeader {
  type: 'image';
  /** `camera` (LiveView frames) or `slice` (reconstructed slices). */
  panel: 'camera' | 'slice';
  /** Acquisition name (camera) or slice name. */
  name: string;
  dtype: WireDType;
  /** `[height, width]` of the pixels sent. */
  shape: [number, number];
  /** `[height, width]` of the frame before binning. */
  originalShape: [number, number];
  /** Binning factor (1: every pixel sent). */
  bin: number;
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

/** An encoded image: header bytes and pixel bytes, sent as two fragments of one message. */
export interface EncodedImage {
  /** Length prefix, JSON header and padding. */
  head: Uint8Array;
  /** The pixels (shares memory with the frame when no binning or conversion was needed). */
  body: Uint8Array;
  bin: number;
  shape: [number, number];
  dtype: WireDType;
}

/** The binning factor that brings the long side of `shape` to at most `maxSize`. */
export function binFactor(shape: readonly [number, number], maxSize: number): number {
  const long = Math.max(shape[0], shape[1]);
  return long <= maxSize ? 1 : Math.ceil(long / maxSize);
}

/**
 * Averages `bin × bin` blocks (integer dtypes are rounded and keep their type; float64 becomes
 * float32). Edge pixels that do not fill a whole block are left out.
 */
export function binPixels(frame: Frame, bin: number): { data: PixelArray; shape: [number, number]; dtype: WireDType } {
  const [h, w] = frame.shape;
  const dtype: WireDType = frame.dtype === 'float64' ? 'float32' : frame.dtype;
  if (bin <= 1) {
    const data = frame.dtype === 'float64' ? Float32Array.from(frame.data as Float64Array) : frame.data;
    return { data, shape: [h, w], dtype };
  }
  const oh = Math.floor(h / bin);
  const ow = Math.floor(w / bin);
  const src = frame.data;
  const sums = new Float64Array(ow);
  const out = new (arrayConstructor(dtype))(oh * ow);
  const round = dtype !== 'float32';
  const norm = 1 / (bin * bin);
  for (let oy = 0; oy < oh; oy++) {
    sums.fill(0);
    for (let dy = 0; dy < bin; dy++) {
      let i = (oy * bin + dy) * w;
      if (bin === 2) {
        for (let ox = 0; ox < ow; ox++, i += 2) sums[ox]! += src[i]! + src[i + 1]!;
      } else {
        for (let ox = 0; ox < ow; ox++) {
          let s = 0;
          for (let dx = 0; dx < bin; dx++) s += src[i++]!;
          sums[ox]! += s;
        }
      }
    }
    const o = oy * ow;
    if (round) for (let ox = 0; ox < ow; ox++) out[o + ox] = Math.round(sums[ox]! * norm);
    else for (let ox = 0; ox < ow; ox++) out[o + ox] = sums[ox]! * norm;
  }
  return { data: out, shape: [oh, ow], dtype };
}

/** Bins `frame` if needed and splits it into the header (filled by {@link headBytes}) and body. */
export function encodePixels(frame: Frame, maxSize: number): Omit<EncodedImage, 'head'> {
  const bin = binFactor(frame.shape, maxSize);
  const { data, shape, dtype } = binPixels(frame, bin);
  return { body: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), bin, shape, dtype };
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
export function decodeImage(message: Uint8Array): { header: ImageHeader; pixels: PixelArray } {
  const view = new DataView(message.buffer, message.byteOffset, message.byteLength);
  const n = view.getUint32(0, true);
  const header = JSON.parse(Buffer.from(message.buffer, message.byteOffset + 4, n).toString('utf8')) as ImageHeader;
  const offset = Math.ceil((4 + n) / 8) * 8;
  const ctor = arrayConstructor(header.dtype);
  const bytes = message.slice(offset); // aligned copy
  const pixels = new ctor(bytes.buffer, 0, header.shape[0] * header.shape[1]);
  return { header, pixels };
}
