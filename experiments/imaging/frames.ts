/**
 * Frame helpers and tomography arithmetic of the imaging experiments.
 * @module
 */
import { checkSignalOptions, ParameterError, q, toNumber, type Frame, type Unit } from '../../core/index.js';
import { Acquisition } from '../acquisition.js';
import type { Camera } from '../../devices/cameras/index.js';
import type { AcquisitionPlan, PlanContext } from '../estimate.js';

/** NXtomo image keys, as written into frame metadata (`image_key`). */
export const IMAGE_KEYS = { projection: 0, flat: 1, dark: 2 } as const;

/** A frame with `extra` merged into its metadata (the pixels are shared, not copied). */
export function withMetadata<F extends Frame>(frame: F, extra: Record<string, unknown>): F {
  return { data: frame.data, shape: frame.shape, dtype: frame.dtype, metadata: { ...frame.metadata, ...extra } } as F;
}

/** Stops recording or readout so that the camera can be set up again. */
/** @internal */
export async function toStandby(camera: Camera): Promise<void> {
  const state = camera.state.current;
  if (state === 'recording') await camera.stopRecording();
  else if (state === 'readout') await camera.stopReadout();
}

/**
 * Yields software-triggered frames `from` … `count - 1`. `before(i)` runs before frame `i` is
 * triggered (move a motor there) and may return metadata for that frame. The trigger source is
 * restored and the camera back in standby afterwards, also when aborted or stopped early.
 * @internal
 */
export async function* triggeredFrames(
  camera: Camera,
  count: number,
  signal?: AbortSignal,
  before?: (index: number, signal: AbortSignal | undefined) => Promise<Record<string, unknown> | void>,
  from = 0,
): AsyncGenerator<Frame> {
  await toStandby(camera);
  await camera.triggerSource.stash();
  try {
    await camera.setTriggerSource('SOFTWARE');
    await camera.startRecording();
    try {
      for (let i = from; i < count; i++) {
        signal?.throwIfAborted();
        const extra = before ? await before(i, signal) : undefined;
        await camera.trigger();
        // A remote camera sends the frame straight to the remote consumers.
        if (isRemoteCamera(camera)) await camera.grabSend(1, { signal, end: false });
        else {
          const frame = await camera.grab({ signal });
          // frameNumber counts within the acquisition, also after a restart from a checkpoint.
          yield withMetadata(frame, { ...extra, frameNumber: i });
        }
      }
    } finally {
      if (camera.state.current === 'recording') await camera.stopRecording();
    }
  } finally {
    await camera.triggerSource.restore();
  }
}

/**
 * Yields free-running (AUTO trigger) frames `from` … `count - 1`; `metadata(i)` is merged into
 * frame `i`.
 * @internal
 */
export async function* autoFrames(
  camera: Camera,
  count: number,
  signal?: AbortSignal,
  metadata?: (index: number) => Record<string, unknown>,
  from = 0,
): AsyncGenerator<Frame> {
  await toStandby(camera);
  if (isRemoteCamera(camera)) {
    // The frames go from the camera server straight to the remote consumers.
    await camera.triggerSource.stash();
    try {
      await camera.setTriggerSource('AUTO');
      await camera.recording(() => camera.grabSend(Math.max(0, count - from), { signal, end: false }));
    } finally {
      await camera.triggerSource.restore();
    }
    return;
  }
  let i = from;
  for await (const frame of camera.stream({ signal, count: Math.max(0, count - from) })) {
    // frameNumber counts within the acquisition, also after a restart from a checkpoint.
    yield from === 0 && !metadata ? frame : withMetadata(frame, { ...metadata?.(i), frameNumber: i });
    i++;
  }
}

/**
 * Takes `count` frames with `camera` in SOFTWARE trigger mode: triggers and grabs each. The
 * camera's trigger source is restored and recording stopped afterwards, also when the consumer
 * stops early or `signal` aborts.
 * @example
 * ```ts
 * for await (const frame of frames(10, camera)) console.log(frame.metadata.frameNumber);
 * ```
 */
export async function* frames(
  count: number,
  camera: Camera,
  options: { signal?: AbortSignal } = {},
): AsyncGenerator<Frame> {
  checkCount('frames(): count', count);
  checkSignalOptions(() => 'frames()', options);
  yield* triggeredFrames(camera, count, options.signal);
}

function widthInPixels(width: Unit | number): number {
  const w = typeof width === 'number' ? width : toNumber(width, 'px', 'frame width');
  if (!(w > 0) || !Number.isFinite(w))
    throw new ParameterError(`the frame width must be a positive number of pixels, got ${w}`);
  return w;
}

/**
 * The angular step of a tomographic scan for which no pixel of a frame `width` pixels wide moves by
 * more than one pixel between projections: atan(2 / width), in rad.
 * @param width in pixels (a number or a quantity in px)
 */
export function tomoAngularStep(width: Unit | number): Unit {
  return q(Math.atan(2 / widthInPixels(width)), 'rad');
}

/**
 * The least number of projections of a tomographic scan over 180° for a frame `width` pixels
 * wide: ceil(π / atan(2 / width)). 100 px → 158.
 */
export function tomoProjectionsNumber(width: Unit | number): number {
  return Math.ceil(Math.PI / Math.atan(2 / widthInPixels(width)));
}

/**
 * The fastest rotation with less than one pixel of motion blur per frame: atan(2 / width) · frame
 * rate, in rad/s. The frame rate (not the exposure time) counts, since the sample must not move by
 * more than a pixel from one frame to the next.
 */
export function tomoMaxSpeed(width: Unit | number, frameRate: Unit): Unit {
  return q(Math.atan(2 / widthInPixels(width)) * toNumber(frameRate, 'Hz', 'frame rate'), 'rad/s');
}

/** @internal */
export function checkCount(what: string, n: unknown): asserts n is number {
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0)
    throw new ParameterError(`${what} must be an integer ≥ 0, got ${String(n)}`);
}

/** A camera in a camera server (`concert/devices/cameras/remote`): frames go to registered endpoints. */
export type RemoteCameraLike = Camera & {
  grabSend(count: number, options?: { signal?: AbortSignal; end?: boolean; stream?: string }): Promise<number>;
  withStream<T>(stream: string, fn: () => Promise<T>): Promise<T>;
  readonly sentFrames: number;
};

/** True for a remote camera, whose frames go to remote consumers instead of this process. */
export function isRemoteCamera(camera: Camera): camera is RemoteCameraLike {
  return typeof (camera as Partial<RemoteCameraLike>).grabSend === 'function';
}

/**
 * An acquisition of `take`'s frames, restartable from a checkpoint (`take(signal, from)` yields
 * frame `from` next, set up for it); with a remote camera, one whose frames go from the camera
 * server to remote consumers (then `take` yields nothing, and the end marker follows it).
 * @internal
 */
export function imagingAcquisition(
  name: string,
  camera: Camera,
  take: (signal: AbortSignal, from: number) => AsyncGenerator<Frame>,
  frames: () => number,
  plan?: (context: PlanContext) => Promise<AcquisitionPlan>,
): Acquisition {
  if (!isRemoteCamera(camera))
    return new Acquisition(name, (signal, start) => take(signal, start.from), { frames, restartable: true, plan });
  return new Acquisition(name, null, {
    frames,
    plan,
    // every grabSend of the run tags its frames with the run's stream id
    acquire: (signal, { streamId }) =>
      camera.withStream(streamId, async () => {
        const before = camera.sentFrames;
        for await (const _ of take(signal, 0));
        await toStandby(camera);
        await camera.recording(() => camera.grabSend(0, { signal, end: true }));
        return camera.sentFrames - before;
      }),
  });
}
