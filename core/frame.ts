/**
 * Frames: a typed array of pixels plus its shape, dtype and metadata. Frames travel by reference
 * from producers to every consumer; nobody copies or mutates a frame's pixels after it is yielded.
 * @module
 */
import { inspect } from 'node:util';
import { ParameterError } from './errors.js';

/** Pixel types Concert handles, named as numpy names them (the wire format uses these names). */
export type DType = 'uint8' | 'int8' | 'uint16' | 'int16' | 'uint32' | 'int32' | 'float32' | 'float64';

/** The typed array that holds pixels of each dtype. */
export interface TypedArrayOf {
  uint8: Uint8Array;
  int8: Int8Array;
  uint16: Uint16Array;
  int16: Int16Array;
  uint32: Uint32Array;
  int32: Int32Array;
  float32: Float32Array;
  float64: Float64Array;
}

export type PixelArray = TypedArrayOf[DType];

/** Metadata that every frame carries; producers may add their own keys (angle, image_key, …). */
export interface FrameMetadata {
  /** 0-based index of the frame within its acquisition. */
  frameNumber: number;
  /** Milliseconds since the Unix epoch when the frame was taken. */
  timestamp: number;
  /**
   * The same instant in whole microseconds since the epoch, from cameras whose clock resolves
   * it (the dummy camera); `timestamp` stays whole milliseconds, as `Date.now()` gives.
   */
  timestampUs?: number;
  [key: string]: unknown;
}

/**
 * One 2-D image: `shape` is `[height, width]` (row-major, numpy order). A colour frame (`rgb24`)
 * has `channels: 3`: its `uint8` data holds 3 interleaved samples (R, G, B) per pixel, as numpy's
 * `[height, width, 3]`; without `channels` a frame is grey (one sample per pixel).
 */
export interface Frame<D extends DType = DType> {
  readonly data: TypedArrayOf[D];
  readonly shape: readonly [height: number, width: number];
  readonly dtype: D;
  readonly metadata: FrameMetadata;
  /** 3 for a colour (rgb24) frame; absent for grey. */
  readonly channels?: 3;
}

/** Samples per pixel: 3 for a colour frame, else 1. */
export function channelsOf(frame: Pick<Frame, 'channels'>): 1 | 3 {
  return frame.channels ?? 1;
}

/** The frame's pixel format as cameras name it: `rgb24` for colour, else its dtype. */
export function pixelFormatOf(frame: Pick<Frame, 'channels' | 'dtype'>): string {
  return frame.channels === 3 ? 'rgb24' : frame.dtype;
}

/**
 * Refuses a colour frame for a consumer that takes grey frames only.
 * @throws ParameterError naming the consumer, the frame, its camera and its pixel format.
 */
export function requireGrey(frame: Frame, consumer: string): void {
  if (frame.channels === undefined) return;
  const camera = typeof frame.metadata.camera === 'string' ? ` from camera '${frame.metadata.camera}'` : '';
  throw new ParameterError(
    `${consumer} takes grey frames, but frame ${frame.metadata.frameNumber}${camera} is ${pixelFormatOf(frame)} ` +
      "(colour): set the camera's pixelFormat to gray8 or gray16le, or record colour as TIFF or mp4",
  );
}

const constructors = {
  uint8: Uint8Array,
  int8: Int8Array,
  uint16: Uint16Array,
  int16: Int16Array,
  uint32: Uint32Array,
  int32: Int32Array,
  float32: Float32Array,
  float64: Float64Array,
} as const;

/** Every dtype name, in a stable order. */
export const DTYPES = Object.keys(constructors) as DType[];

/** True if `name` is a dtype Concert handles. */
export function isDType(name: unknown): name is DType {
  return typeof name === 'string' && Object.hasOwn(constructors, name);
}

/** Bytes per pixel of a dtype. */
export function itemSize(dtype: DType): number {
  return constructors[dtype].BYTES_PER_ELEMENT;
}

/** The typed-array constructor of a dtype. */
export function arrayConstructor<D extends DType>(
  dtype: D,
): {
  new (n: number): TypedArrayOf[D];
  new (buffer: ArrayBufferLike, byteOffset?: number, length?: number): TypedArrayOf[D];
} {
  return constructors[dtype] as never;
}

/** The dtype of a typed array. */
export function dtypeOf(data: PixelArray): DType {
  for (const [name, ctor] of Object.entries(constructors)) if (data instanceof ctor) return name as DType;
  throw new ParameterError(`unsupported pixel array type ${Object.prototype.toString.call(data)}`);
}

/**
 * Makes a frame, checking that `data` holds exactly `height × width` pixels.
 * @throws ParameterError if the shape does not match the data.
 */
export function makeFrame<D extends DType>(
  data: TypedArrayOf[D],
  shape: readonly [number, number],
  metadata: Partial<FrameMetadata> = {},
  channels: 1 | 3 = 1,
): Frame<D> {
  const [height, width] = shape;
  if (!Number.isInteger(height) || !Number.isInteger(width) || height < 0 || width < 0)
    throw new ParameterError(`frame shape must be two non-negative integers, got [${shape.join(', ')}]`);
  const dtype = dtypeOf(data) as D;
  if (channels === 3 && dtype !== 'uint8')
    throw new ParameterError(`a colour (rgb24) frame holds uint8 samples, got ${dtype}`);
  if (data.length !== height * width * channels)
    throw new ParameterError(
      channels === 3
        ? `frame data has ${data.length} samples but an rgb24 frame of shape [${height}, ${width}] needs ${3 * height * width}`
        : `frame data has ${data.length} pixels but shape [${height}, ${width}] needs ${height * width}`,
    );
  const frame: Frame<D> = {
    data,
    shape: [height, width],
    dtype,
    metadata: { frameNumber: 0, timestamp: Date.now(), ...metadata },
    ...(channels === 3 ? { channels } : {}),
  };
  // Not enumerable: copies, comparisons and the wire format see only the four fields.
  Object.defineProperty(frame, inspect.custom, { value: inspectThisFrame });
  return frame;
}

function inspectThisFrame(this: Frame): string {
  return describeFrame(this);
}

/**
 * A frame as the prompt prints it: `Frame 2048×2048 uint16 { frameNumber: 3, timestamp: …,
 * angle: 0.5 }` (height × width, dtype, metadata; never the pixels).
 */
export function describeFrame(frame: Frame): string {
  const [height, width] = frame.shape;
  const metadata = Object.entries(frame.metadata ?? {})
    .map(
      ([key, value]) =>
        `${key}: ${typeof value === 'object' && value !== null ? inspect(value, { depth: 0, breakLength: Infinity }) : String(value)}`,
    )
    .join(', ');
  return `Frame ${height}×${width} ${pixelFormatOf(frame)}${metadata ? ` { ${metadata} }` : ''}`;
}

/** True if `value` looks like a frame (a typed array, a two-number shape, a dtype and metadata). */
export function isFrame(value: unknown): value is Frame {
  if (typeof value !== 'object' || value === null) return false;
  const f = value as Partial<Frame>;
  return (
    ArrayBuffer.isView(f.data) &&
    Array.isArray(f.shape) &&
    f.shape.length === 2 &&
    isDType(f.dtype) &&
    typeof f.metadata === 'object'
  );
}

/**
 * What is wrong with `value` as a frame (`undefined` if it is a good one): not an object, data
 * that is not a typed array of its `dtype`, a shape that is not two positive integers matching the
 * number of pixels, metadata that is not an object. Acquisitions check every frame a producer
 * yields with it.
 */
export function frameProblem(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return (
      `${value === null ? 'null' : Array.isArray(value) ? 'an array' : `${typeof value} ${String(value)}`} ` +
      'is not a frame (make one with makeFrame(data, [height, width]))'
    );
  const { data, shape, dtype, metadata } = value as Partial<Frame>;
  if (!ArrayBuffer.isView(data) || data instanceof DataView)
    return `its data is ${data === undefined ? 'missing' : Object.prototype.toString.call(data)}, not a typed array`;
  if (!isDType(dtype)) return `its dtype ${JSON.stringify(dtype)} is not one of ${DTYPES.join(', ')}`;
  if (!(data instanceof constructors[dtype]))
    return `it is labelled ${dtype} but its data is a ${data.constructor.name} (a ${dtype} frame holds a ${constructors[dtype].name})`;
  if (!Array.isArray(shape) || shape.length !== 2 || !shape.every((n) => Number.isInteger(n) && n > 0))
    return `its shape must be [height, width] with positive integers, got ${JSON.stringify(shape)}`;
  const channels = (value as Partial<Frame>).channels;
  if (channels !== undefined && (channels !== 3 || dtype !== 'uint8'))
    return `its channels must be absent (grey) or 3 with uint8 data (rgb24), got ${JSON.stringify(channels)} with ${dtype}`;
  if (shape[0] * shape[1] * (channels ?? 1) !== (data as PixelArray).length)
    return channels
      ? `its shape [${shape[0]}, ${shape[1]}] rgb24 needs ${3 * shape[0] * shape[1]} samples ` +
          `but its data has ${(data as PixelArray).length}`
      : `its shape [${shape[0]}, ${shape[1]}] needs ${shape[0] * shape[1]} pixels but its data has ${(data as PixelArray).length}`;
  if (typeof metadata !== 'object' || metadata === null) return 'its metadata is not an object';
  return undefined;
}

/** The frame's pixels as bytes, sharing memory with `frame.data` (no copy). */
export function frameBytes(frame: Frame): Uint8Array {
  return new Uint8Array(frame.data.buffer, frame.data.byteOffset, frame.data.byteLength);
}
