/**
 * Cameras: the contract every backend (dummy, file, Tango, remote) implements. The base owns the
 * state machine (standby → recording → standby, readout), trigger handling, mirror/rotate and
 * frame numbering; backends implement the protected hooks and yield raw frames.
 * @module
 */
import {
  check,
  checkCallOptions,
  checkSignalOptions,
  Device,
  SIGNAL_OPTIONS,
  z,
  makeFrame,
  Mutex,
  ParameterError,
  transition,
  type DType,
  type Frame,
  type RepeatedOperation,
  type SetOptions,
  type Unit,
} from '../../core/index.js';
import { mirrorRotate } from './orientation.js';

/** Camera states. */
export type CameraState = 'standby' | 'recording' | 'readout';

/** Where frames are triggered: free-running, by `trigger()`, or by a hardware signal. */
export type TriggerSource = 'AUTO' | 'SOFTWARE' | 'EXTERNAL';
export const TRIGGER_SOURCES: readonly TriggerSource[] = ['AUTO', 'SOFTWARE', 'EXTERNAL'];

/** Region of interest and sensor geometry, in pixels. */
export interface Roi {
  x0: number;
  y0: number;
  width: number;
  height: number;
}

/** What a camera would deliver, as a dry run needs it ({@link Camera.estimateFrames}). */
export interface FrameEstimate {
  /** `[height, width]` of a frame, after ROI, mirror and rotate. */
  shape: [number, number];
  dtype: DType;
  /** Time between two free-running (AUTO) frames, ms. */
  periodMs: number;
  /** Time one software-triggered frame takes from `trigger()` to its pixels, ms. */
  triggeredMs: number;
  /** The metadata `grab()` gives frame `index` of a recording (keys in the order the frame has them). */
  metadata(index: number): Record<string, unknown>;
  /** Every problem a run would hit (a ROI beyond the sensor, …), as messages naming the camera. */
  limits: string[];
  /**
   * The frames go from a camera server straight to remote consumers: they carry the server's
   * metadata only (the experiment's `image_key`, `angle`, … are not merged in).
   */
  direct?: boolean;
}

/** What a backend adds to {@link Camera.estimateFrames}. */
export interface FrameFormat {
  /** Pixel type of the frames (default uint16). */
  dtype: DType;
  /** Metadata keys the backend's raw frames carry besides frameNumber and timestamp (values as a sample). */
  metadata?: Record<string, unknown>;
  /** Time between two AUTO frames, ms (default: the longer of 1 / frameRate and the exposure time). */
  periodMs?: number;
  /** Time of a software-triggered frame, ms (default: the exposure time). */
  triggeredMs?: number;
}

/** The options of {@link Camera.stream}. */
export const STREAM_OPTIONS = SIGNAL_OPTIONS.extend({
  /** Frames to yield (default: until aborted or the consumer stops). */
  count: z.number().int().min(0).optional(),
});

/** Options of {@link Camera.stream}. */
export type StreamOptions = z.input<typeof STREAM_OPTIONS>;

/** A camera. Frames are 2-D typed arrays with metadata; `grab()` only while recording or in readout. */
export abstract class Camera extends Device {
  /** standby, recording, readout or error. */
  readonly state = this.stateParameter<CameraState>({ initial: 'standby' });

  /** Exposure time per frame. */
  readonly exposureTime = this.quantity('exposureTime', {
    unit: 's',
    lower: 0,
    help: 'exposure time per frame',
    read: () => this.readExposureTime(),
    write: (v) => this.writeExposureTime(v),
  });

  /** Frames per second in AUTO trigger mode. */
  readonly frameRate = this.quantity('frameRate', {
    unit: 'Hz',
    help: 'frames per second (AUTO trigger)',
    read: () => this.readFrameRate(),
    write: (v) => this.writeFrameRate(v),
    validate: (v) => {
      if (!(v > 0)) throw new ParameterError(`${this.name}.frameRate must be > 0 Hz, got ${v} Hz`);
    },
  });

  /** AUTO (free-running), SOFTWARE (`trigger()`) or EXTERNAL. */
  readonly triggerSource = this.selection<TriggerSource>('triggerSource', TRIGGER_SOURCES, {
    help: 'trigger source',
    read: () => this.readTriggerSource(),
    write: (v) => this.writeTriggerSource(v),
  });

  readonly roiX0 = this.#roi('x0', 'roiX0');
  readonly roiY0 = this.#roi('y0', 'roiY0');
  readonly roiWidth = this.#roi('width', 'roiWidth');
  readonly roiHeight = this.#roi('height', 'roiHeight');

  /** Pixel pitch of the sensor. */
  readonly sensorPixelWidth = this.quantity('sensorPixelWidth', {
    unit: 'um',
    help: 'sensor pixel pitch (x)',
    read: () => this.readPixelSize()[0],
  });
  readonly sensorPixelHeight = this.quantity('sensorPixelHeight', {
    unit: 'um',
    help: 'sensor pixel pitch (y)',
    read: () => this.readPixelSize()[1],
  });

  /** Flip frames left-right on grab (before rotating). */
  readonly mirror = this.parameter<boolean>('mirror', {
    help: 'flip frames left-right on grab',
    read: () => this.#mirror,
    write: (v) => void (this.#mirror = v),
    validate: (v) => {
      if (typeof v !== 'boolean')
        throw new ParameterError(`${this.name}.mirror must be true or false, got ${JSON.stringify(v)}`);
    },
  });

  /** Rotate frames by k × 90° counter-clockwise on grab (k = 0…3, after mirroring). */
  readonly rotate = this.parameter<number>('rotate', {
    help: 'rotate frames by k×90° counter-clockwise on grab',
    read: () => this.#rotate,
    write: (v) => void (this.#rotate = v),
    validate: (v) => {
      if (![0, 1, 2, 3].includes(v))
        throw new ParameterError(`${this.name}.rotate must be 0, 1, 2 or 3 (quarter turns), got ${JSON.stringify(v)}`);
    },
  });

  #mirror = false;
  #rotate = 0;
  #frameNumber = 0;
  /** ROI writes read-modify-write the whole ROI: serialize them (device.restore() sets all four at once). */
  readonly #roiWrites = new Mutex();

  // Hooks a backend implements.
  protected abstract readExposureTime(): Promise<number>;
  protected abstract writeExposureTime(seconds: number): Promise<void>;
  protected abstract readFrameRate(): Promise<number>;
  protected abstract writeFrameRate(hz: number): Promise<void>;
  protected abstract readTriggerSource(): Promise<TriggerSource>;
  protected abstract writeTriggerSource(source: TriggerSource): Promise<void>;
  protected abstract readRoi(): Promise<Roi>;
  protected abstract writeRoi(roi: Roi): Promise<void>;
  /** The sensor size in pixels (limits the ROI). */
  protected abstract readSensorSize(): Promise<{ width: number; height: number }>;
  /** Pixel pitch in µm, [x, y]. */
  protected readPixelSize(): [number, number] {
    return [1, 1];
  }
  protected abstract recordHook(start: boolean): Promise<void>;
  protected abstract triggerHook(): Promise<void>;
  /** Returns the next raw frame (as the sensor delivers it; the base applies mirror/rotate). */
  protected abstract grabHook(signal: AbortSignal): Promise<Frame>;
  protected async readoutHook(_start: boolean): Promise<void> {}
  /**
   * The format and timing of the frames the backend would deliver now (dry runs). Default:
   * uint16, paced at the longer of 1 / frameRate and the exposure time.
   */
  protected async frameFormat(): Promise<FrameFormat> {
    return { dtype: 'uint16' };
  }

  /**
   * What recording would deliver, without taking a frame: the frames' shape (ROI, mirror,
   * rotate), dtype and metadata, their timing from the exposure time and frame rate, and the
   * problems a run would hit (a ROI beyond the sensor).
   */
  async estimateFrames(): Promise<FrameEstimate> {
    const [roi, sensor, exposure, rate, format] = await Promise.all([
      this.readRoi(),
      this.readSensorSize(),
      this.readExposureTime(),
      this.readFrameRate(),
      this.frameFormat(),
    ]);
    const limits: string[] = [];
    if (roi.x0 + roi.width > sensor.width || roi.y0 + roi.height > sensor.height)
      limits.push(
        `${this.name}: the ROI (x0 ${roi.x0}, y0 ${roi.y0}, ${roi.width}×${roi.height}) lies outside the ` +
          `${sensor.width}×${sensor.height} px sensor`,
      );
    if (roi.width < 1 || roi.height < 1) limits.push(`${this.name}: the ROI ${roi.width}×${roi.height} px is empty`);
    const turned = this.#rotate % 2 === 1;
    const shape: [number, number] = turned ? [roi.width, roi.height] : [roi.height, roi.width];
    const name = this.name;
    const extra = format.metadata ?? {};
    const timestamp = Date.now();
    return {
      shape,
      dtype: format.dtype,
      periodMs: format.periodMs ?? Math.max(1000 / rate, exposure * 1000),
      triggeredMs: format.triggeredMs ?? exposure * 1000,
      metadata: (index) => ({ frameNumber: index, timestamp, ...extra, camera: name }),
      limits,
    };
  }

  #roi(key: keyof Roi, name: string) {
    return this.quantity(name, {
      unit: 'px',
      help: `region of interest ${key}`,
      read: async () => (await this.readRoi())[key],
      write: (v) =>
        this.#roiWrites.run(async () => {
          const roi = await this.readRoi();
          const sensor = await this.readSensorSize();
          const next = { ...roi, [key]: v };
          if (!Number.isInteger(v) || v < 0)
            throw new ParameterError(`${this.name}.${name} must be a whole number of pixels ≥ 0, got ${v} px`);
          if (next.width < 1 || next.height < 1)
            throw new ParameterError(`${this.name}.${name}: the ROI must be at least 1×1 px`);
          if (next.x0 + next.width > sensor.width || next.y0 + next.height > sensor.height)
            throw new ParameterError(
              `${this.name}.${name}: ${v} px puts the ROI (x0 ${next.x0}, y0 ${next.y0}, ${next.width}×${next.height}) outside the ` +
                `${sensor.width}×${sensor.height} px sensor`,
            );
          await this.writeRoi(next);
        }),
    });
  }

  setExposureTime(v: Unit, o?: SetOptions): Promise<void> {
    return this.exposureTime.set(v, o);
  }
  getExposureTime(): Promise<Unit> {
    return this.exposureTime.get();
  }
  setFrameRate(v: Unit, o?: SetOptions): Promise<void> {
    return this.frameRate.set(v, o);
  }
  getFrameRate(): Promise<Unit> {
    return this.frameRate.get();
  }
  setRoiX0(v: Unit, o?: SetOptions): Promise<void> {
    return this.roiX0.set(v, o);
  }
  getRoiX0(): Promise<Unit> {
    return this.roiX0.get();
  }
  setRoiY0(v: Unit, o?: SetOptions): Promise<void> {
    return this.roiY0.set(v, o);
  }
  getRoiY0(): Promise<Unit> {
    return this.roiY0.get();
  }
  setRoiWidth(v: Unit, o?: SetOptions): Promise<void> {
    return this.roiWidth.set(v, o);
  }
  getRoiWidth(): Promise<Unit> {
    return this.roiWidth.get();
  }
  setRoiHeight(v: Unit, o?: SetOptions): Promise<void> {
    return this.roiHeight.set(v, o);
  }
  getRoiHeight(): Promise<Unit> {
    return this.roiHeight.get();
  }
  setTriggerSource(v: TriggerSource, o?: SetOptions): Promise<void> {
    return this.triggerSource.set(v, o);
  }
  getTriggerSource(): Promise<TriggerSource> {
    return this.triggerSource.get();
  }

  /** Starts recording (standby → recording). Frame numbers restart at 0. */
  @transition({ source: ['standby'], target: 'recording' })
  async startRecording(): Promise<void> {
    this.#frameNumber = 0;
    await this.recordHook(true);
  }

  /** Stops recording (recording → standby). */
  @transition({ source: ['recording'], target: 'standby' })
  async stopRecording(): Promise<void> {
    await this.recordHook(false);
  }

  /** Starts reading out stored frames (standby → readout). */
  @transition({ source: ['standby'], target: 'readout' })
  async startReadout(): Promise<void> {
    this.#frameNumber = 0;
    await this.readoutHook(true);
  }

  /** Stops the readout (readout → standby). */
  @transition({ source: ['readout'], target: 'standby' })
  async stopReadout(): Promise<void> {
    await this.readoutHook(false);
  }

  /** Triggers one frame (SOFTWARE trigger source, while recording). */
  @check(['recording'], ['recording'])
  async trigger(): Promise<void> {
    await this.triggerHook();
  }

  /** Returns the next frame, mirrored and rotated as set. Only while recording or in readout. */
  @check(['recording', 'readout'], ['recording', 'readout'])
  async grab(options: { signal?: AbortSignal } = {}): Promise<Frame> {
    checkSignalOptions(() => `${this.name}.grab`, options);
    return this.#deliver(await this.operation(options.signal, (signal) => this.grabHook(signal)));
  }

  /**
   * `grab()` within {@link stream}: the grab runs in the stream's one repeated operation instead
   * of a new tracked operation (controller, listeners) per frame.
   */
  @check(['recording', 'readout'], ['recording', 'readout'])
  async #grab(operation: RepeatedOperation): Promise<Frame> {
    return this.#deliver(await operation.run((signal) => this.grabHook(signal)));
  }

  /** The frame handed out: mirrored and rotated as set, numbered, named. */
  #deliver(raw: Frame): Frame {
    const oriented = this.#mirror || this.#rotate ? mirrorRotate(raw, this.#mirror, this.#rotate) : raw;
    return makeFrame(
      oriented.data,
      oriented.shape,
      { ...raw.metadata, frameNumber: this.#frameNumber++, camera: this.name },
      raw.channels ?? 1,
    );
  }

  /** Records while `fn` runs; always returns to standby. */
  async recording<T>(fn: () => Promise<T> | T): Promise<T> {
    await this.startRecording();
    try {
      return await fn();
    } finally {
      if (this.state.current === 'recording') await this.stopRecording();
    }
  }

  /** Reads out while `fn` runs; always returns to standby. */
  async readout<T>(fn: () => Promise<T> | T): Promise<T> {
    await this.startReadout();
    try {
      return await fn();
    } finally {
      if (this.state.current === 'readout') await this.stopReadout();
    }
  }

  /**
   * Yields frames free-running (AUTO trigger) until aborted or the consumer stops; restores the
   * trigger source and returns to standby afterwards.
   */
  async *stream(options: StreamOptions = {}): AsyncGenerator<Frame> {
    checkCallOptions(() => `${this.name}.stream`, STREAM_OPTIONS, options);
    const { signal, count = Infinity } = options;
    await this.triggerSource.stash();
    try {
      await this.setTriggerSource('AUTO');
      await this.startRecording();
      // One tracked operation for the stream's grabs, each tracked while it runs.
      const operation = this.repeatedOperation(signal);
      try {
        for (let i = 0; i < count; i++) {
          signal?.throwIfAborted();
          yield await this.#grab(operation);
        }
      } finally {
        operation.dispose();
        if (this.state.current === 'recording') await this.stopRecording();
      }
    } finally {
      await this.triggerSource.restore();
    }
  }

  protected override async stopHook(): Promise<void> {
    if (this.state.current === 'recording') await this.stopRecording();
    else if (this.state.current === 'readout') await this.stopReadout();
  }
}
