/**
 * Imaging steps: what one acquisition of an imaging experiment does, declared once. The run
 * executes a step ({@link runStep}) and a dry run walks the same step ({@link planStep}), so the
 * estimate cannot drift from the run: the same counts, positions, velocities and frame metadata.
 * @module
 * @internal
 */
import { q, type Frame } from '../../core/index.js';
import type { Camera } from '../../devices/cameras/index.js';
import type { Motor } from '../../devices/motors/index.js';
import type { AcquisitionPlan, PlanContext, PlannedMove } from '../estimate.js';
import type { Exposure } from './exposure.js';
import { triggeredFrames } from './frames.js';

/** A motor that runs at a velocity during the frames (position unit per second). */
export interface PlannedRun {
  readonly motor: Motor & { setVelocity(v: ReturnType<typeof q>, o?: { signal?: AbortSignal }): Promise<void> };
  readonly velocity: number;
}

/** One acquisition of an imaging experiment. */
export interface ImagingStep {
  /** Frames of the acquisition. */
  readonly count: number;
  /** Expose the sample during the frames (true) or not (darks). */
  readonly exposed: boolean;
  /** Where the motors go (in parallel) before frame `from` is taken. */
  setup(from: number): PlannedMove[];
  /** `auto`: free-running frames; `software`: one triggered frame after each `before(i)`. */
  readonly trigger: 'auto' | 'software';
  /** Moves (in parallel) before triggered frame `i`. */
  before?(index: number): PlannedMove[];
  /** Motors running at a velocity while free-running frames are taken (stopped afterwards). */
  readonly runs?: readonly PlannedRun[];
  /** The metadata frame `i` gets (`image_key`, `angle`, …). */
  metadata(index: number): Record<string, unknown>;
  /** Stop the exposure after the last frame. */
  readonly stopAfter?: boolean;
}

/** The devices a step runs on. */
export interface StepDevices {
  readonly camera: Camera;
  readonly exposure: Exposure;
  /** Free-running frames (an experiment may pace them its own way). */
  produce(
    count: number,
    signal: AbortSignal,
    metadata: (i: number) => Record<string, unknown>,
    from: number,
  ): AsyncGenerator<Frame>;
}

async function moveAll(moves: readonly PlannedMove[], signal: AbortSignal | undefined): Promise<void> {
  await Promise.all(moves.map(({ motor, target }) => motor.setPosition(q(target, motor.position.unit), { signal })));
}

/** Runs `step` from frame `from`: exposure, positions, frames (triggered or free-running), the runs stopped. */
export async function* runStep(
  step: ImagingStep,
  devices: StepDevices,
  signal: AbortSignal,
  from = 0,
): AsyncGenerator<Frame> {
  if (!step.exposed) await devices.exposure.stop(signal);
  await moveAll(step.setup(from), signal);
  if (step.exposed) await devices.exposure.start(signal);
  if (step.trigger === 'software') {
    yield* triggeredFrames(
      devices.camera,
      step.count,
      signal,
      async (i, s) => {
        await moveAll(step.before?.(i) ?? [], s);
        return step.metadata(i);
      },
      from,
    );
  } else {
    const runs = step.runs ?? [];
    try {
      await Promise.all(
        runs.map(({ motor, velocity }) => motor.setVelocity(q(velocity, `${motor.position.unit}/s`), { signal })),
      );
      yield* devices.produce(step.count, signal, (i) => step.metadata(i), from);
    } finally {
      await Promise.all(runs.map(({ motor }) => motor.stop()));
    }
  }
  if (step.stopAfter) await devices.exposure.stop(signal);
}

/**
 * Walks `step` in `context`: the exposure switched, the setup moves, then the frames — at the
 * camera's frame period (free-running; the runs checked against the limits) or one triggered
 * frame after each step's moves. The frames are those the camera would deliver, with the step's
 * metadata merged in as the run merges it.
 */
export async function planStep(
  step: ImagingStep,
  devices: Pick<StepDevices, 'camera' | 'exposure'>,
  context: PlanContext,
): Promise<AcquisitionPlan> {
  const camera = await context.camera(devices.camera);
  let durationMs = (await planExposure(devices.exposure, step.exposed, context)) + (await context.move(step.setup(0)));
  if (step.trigger === 'software') {
    for (let i = 0; i < step.count; i++)
      durationMs += (await context.move(step.before?.(i) ?? [])) + camera.triggeredMs;
  } else {
    const framesMs = step.count * camera.periodMs;
    const ramps = await Promise.all((step.runs ?? []).map((r) => context.run(r.motor, r.velocity, framesMs)));
    durationMs += Math.max(0, ...ramps) + framesMs;
  }
  if (step.stopAfter) durationMs += await planExposure(devices.exposure, false, context);
  const { shape, dtype } = camera;
  if (camera.direct)
    context.note(
      `${devices.camera.name} sends from a camera server: the durations leave out the stream setup and the network ` +
        '(a remote run takes longer)',
    );
  return {
    frames: step.count,
    durationMs,
    // As withMetadata merges them: the camera's keys first, frameNumber counting within the acquisition.
    frame: camera.direct
      ? (i) => ({ shape, dtype, metadata: camera.metadata(i) })
      : (i) => ({ shape, dtype, metadata: { ...camera.metadata(i), ...step.metadata(i), frameNumber: i } }),
  };
}

/** Switches the exposure in the simulation; returns the time it takes. */
export async function planExposure(exposure: Exposure, on: boolean, context: PlanContext): Promise<number> {
  const device = exposure.device;
  const now = context.exposing.get(device) ?? (await exposure.isExposing?.());
  context.exposing.set(device, on);
  if (now === on) return 0;
  return (await exposure.switchTimeMs?.()) ?? 0;
}
