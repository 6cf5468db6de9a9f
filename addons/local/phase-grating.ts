/**
 * Fourier analysis of grating-interferometry phase stepping (Talbot interferometry): from the
 * dark fields, a reference stepping (no sample) and an object stepping (with the sample) it computes
 * per pixel the transmitted intensity, the differential phase and the visibility (dark-field)
 * contrast, writes them as float32 TIFFs and keeps them in the session.
 * @module
 */
import { makeFrame, z, type Frame } from '../../core/index.js';
import type { Acquisition } from '../../experiments/acquisition.js';
import type { FrameConsumer } from '../../experiments/consumer.js';
import type { Experiment } from '../../experiments/experiment.js';
import { GratingInterferometryStepping } from '../../experiments/imaging.js';
import { zwalker, type Walker } from '../../walkers/index.js';
import { Addon, ADDON_OPTIONS } from '../base.js';
import { AddonError } from '../errors.js';

/** Options of {@link PhaseGratingSteppingFourierProcessing.create}. */
export type PhaseGratingOptions = z.input<typeof PHASE_GRATING_OPTIONS>;

/** The options of {@link PhaseGratingSteppingFourierProcessing.create}. */
export const PHASE_GRATING_OPTIONS = ADDON_OPTIONS.extend({
  /** Directory (in the run's scan directory) of the results (default `phase-stepping`). */
  outputDirectory: z.string().optional(),
  /** Where results go (default: the experiment's walker; none: results are only kept in memory). */
  walker: zwalker.optional(),
  /** Grating periods per stepping, if the experiment is not a `GratingInterferometryStepping` (default 1). */
  numPeriods: z.number().int().min(1).optional(),
});

/** The Fourier components of one stepping, per pixel. */
export interface SteppingResult {
  /** Mean intensity a0 (dark-subtracted). */
  intensity: Frame<'float32'>;
  /** arg(a1), the phase of the first harmonic, in (−π, π]. */
  phase: Frame<'float32'>;
  /** 2·|a1| / a0. */
  visibility: Frame<'float32'>;
}

/** The per-pixel analysis of one stepping (frames in step order), dark-subtracted. */
export function analyzeStepping(
  frames: readonly Frame[],
  dark: Float32Array | undefined,
  numPeriods = 1,
): SteppingResult {
  if (frames.length < 2) throw new AddonError(`a phase stepping needs at least 2 frames, got ${frames.length}`);
  const [height, width] = frames[0]!.shape;
  const size = height * width;
  for (const f of frames)
    if (f.shape[0] !== height || f.shape[1] !== width)
      throw new AddonError(`phase stepping frames differ in size: ${f.shape.join('×')} vs ${height}×${width}`);
  if (dark && dark.length !== size)
    throw new AddonError(`the dark field has ${dark.length} pixels, the stepping frames ${size}`);
  const n = frames.length;
  const a0 = new Float64Array(size);
  const re = new Float64Array(size);
  const im = new Float64Array(size);
  for (let k = 0; k < n; k++) {
    const c = Math.cos((2 * Math.PI * numPeriods * k) / n);
    const s = Math.sin((2 * Math.PI * numPeriods * k) / n);
    const data = frames[k]!.data;
    for (let i = 0; i < size; i++) {
      const v = (data[i] as number) - (dark ? dark[i]! : 0);
      a0[i]! += v;
      re[i]! += v * c;
      im[i]! -= v * s;
    }
  }
  const intensity = new Float32Array(size);
  const phase = new Float32Array(size);
  const visibility = new Float32Array(size);
  for (let i = 0; i < size; i++) {
    const mean = a0[i]! / n;
    intensity[i] = Math.abs(mean);
    phase[i] = Math.atan2(im[i]! / n, re[i]! / n);
    visibility[i] = (2 * Math.hypot(re[i]! / n, im[i]! / n)) / mean;
  }
  return {
    intensity: makeFrame(intensity, [height, width]),
    phase: makeFrame(phase, [height, width]),
    visibility: makeFrame(visibility, [height, width]),
  };
}

/** `angle` wrapped to (−π, π]. */
export function wrapPhase(angle: number): number {
  const w = ((((angle + Math.PI) % (2 * Math.PI)) + 2 * Math.PI) % (2 * Math.PI)) - Math.PI;
  return w === -Math.PI ? Math.PI : w;
}

function map2(a: Frame<'float32'>, b: Frame<'float32'>, fn: (x: number, y: number) => number): Frame<'float32'> {
  const out = new Float32Array(a.data.length);
  for (let i = 0; i < out.length; i++) out[i] = fn(a.data[i]!, b.data[i]!);
  return makeFrame(out, a.shape);
}

const STEPPINGS = { reference_stepping: 'reference', object_stepping: 'object' } as const;
type Stepping = (typeof STEPPINGS)[keyof typeof STEPPINGS];

/**
 * Processes grating-interferometry phase stepping as the data comes: averages the `darks`,
 * collects `reference_stepping` and `object_stepping`, and when a stepping ends computes its
 * intensity, phase and visibility (`reference_*`, `object_*`); after the last stepping of a run,
 * the contrasts: `intensity` (transmission, obj a0 / ref a0), `diffPhase` (arg obj a1 − arg ref a1,
 * wrapped to (−π, π]), `visibilityContrast` (dark-field, obj visibility / ref visibility) and,
 * with a propagation distance, `diffPhaseInRad` (refraction angle = diffPhase · period / (2π · distance)).
 * Each result is written as a float32 TIFF to `<scan>/phase-stepping/<name>/`.
 * @example
 * ```ts
 * const processing = await PhaseGratingSteppingFourierProcessing.create(gratingExperiment);
 * await gratingExperiment.run();
 * processing.diffPhase; // Frame<'float32'>
 * ```
 */
export class PhaseGratingSteppingFourierProcessing extends Addon {
  static override readonly options = PHASE_GRATING_OPTIONS;
  readonly kind = 'local';
  readonly outputDirectory: string;
  readonly walker: Walker | undefined;
  readonly #numPeriods: number;
  #dark: Float32Array | undefined;
  readonly #frames: Record<Stepping, Frame[]> = { reference: [], object: [] };
  #written = 0;

  /** Results of the reference stepping. */
  referenceIntensity: Frame<'float32'> | undefined;
  referencePhase: Frame<'float32'> | undefined;
  referenceVisibility: Frame<'float32'> | undefined;
  /** Results of the object stepping. */
  objectIntensity: Frame<'float32'> | undefined;
  objectPhase: Frame<'float32'> | undefined;
  objectVisibility: Frame<'float32'> | undefined;
  /** Transmission: object a0 / reference a0. */
  intensity: Frame<'float32'> | undefined;
  /** Differential phase in (−π, π]. */
  diffPhase: Frame<'float32'> | undefined;
  /** Dark-field contrast: object visibility / reference visibility. */
  visibilityContrast: Frame<'float32'> | undefined;
  /** Refraction angle in rad (only with a propagation distance). */
  diffPhaseInRad: Frame<'float32'> | undefined;

  constructor(experiment: Experiment, options: PhaseGratingOptions = {}) {
    const names = experiment.acquisitions.map((a) => a.name);
    for (const needed of Object.keys(STEPPINGS))
      if (!names.includes(needed))
        throw new AddonError(
          `PhaseGratingSteppingFourierProcessing needs acquisitions 'reference_stepping' and 'object_stepping' (a ` +
            `GratingInterferometryStepping experiment); ${experiment.name} has: ${names.join(', ') || 'none'}`,
        );
    super(experiment, {
      ...options,
      acquisitions: options.acquisitions ?? names.filter((n) => n === 'darks' || n in STEPPINGS),
    });
    this.outputDirectory = options.outputDirectory ?? 'phase-stepping';
    this.walker = options.walker ?? experiment.walker;
    this.#numPeriods = options.numPeriods ?? 1;
  }

  /** The averaged dark field, if darks were taken. */
  get dark(): Frame<'float32'> | undefined {
    return this.#dark && this.#shape ? makeFrame(this.#dark, this.#shape) : undefined;
  }

  #shape: readonly [number, number] | undefined;

  protected consumerFor(acquisition: Acquisition): FrameConsumer {
    const name = acquisition.name;
    return {
      name: `${this.name}:${name}`,
      policy: 'lossless',
      kind: 'local',
      consume: async (frames) => {
        if (name === 'darks') return this.#averageDarks(frames);
        const stepping = STEPPINGS[name as keyof typeof STEPPINGS];
        if (!stepping) throw new AddonError(`${this.name} cannot process acquisition '${name}'`);
        const collected: Frame[] = [];
        for await (const frame of frames) collected.push(frame);
        this.#frames[stepping] = collected;
        await this.#process(stepping);
        const last = this.experiment.acquisitions.filter((a) => a.name in STEPPINGS).at(-1);
        if (last?.name === name && this.referenceIntensity && this.objectIntensity) await this.#contrasts();
      },
    };
  }

  async #averageDarks(frames: AsyncIterable<Frame>): Promise<void> {
    let sum: Float64Array | undefined;
    let n = 0;
    for await (const frame of frames) {
      sum ??= new Float64Array(frame.data.length);
      if (frame.data.length !== sum.length) throw new AddonError(`${this.name}: dark frames differ in size`);
      for (let i = 0; i < sum.length; i++) sum[i]! += frame.data[i] as number;
      this.#shape = frame.shape;
      n++;
    }
    this.#dark = sum ? Float32Array.from(sum, (v) => v / n) : undefined;
  }

  async #numPeriodsOfExperiment(): Promise<{
    numPeriods: number;
    gratingPeriod?: number;
    propagationDistance?: number;
  }> {
    if (this.experiment instanceof GratingInterferometryStepping) return this.experiment.geometry();
    return { numPeriods: this.#numPeriods };
  }

  async #process(stepping: Stepping): Promise<void> {
    const { numPeriods } = await this.#numPeriodsOfExperiment();
    const frames = this.#frames[stepping];
    const dark = this.#dark && this.#dark.length === frames[0]?.data.length ? this.#dark : undefined;
    const result = analyzeStepping(frames, dark, numPeriods);
    if (stepping === 'reference') {
      this.referenceIntensity = result.intensity;
      this.referencePhase = result.phase;
      this.referenceVisibility = result.visibility;
    } else {
      this.objectIntensity = result.intensity;
      this.objectPhase = result.phase;
      this.objectVisibility = result.visibility;
    }
    await this.#write(`${stepping}_intensity`, result.intensity);
    await this.#write(`${stepping}_phase`, result.phase);
    await this.#write(`${stepping}_visibility`, result.visibility);
  }

  async #contrasts(): Promise<void> {
    const obj = { i: this.objectIntensity!, p: this.objectPhase!, v: this.objectVisibility! };
    const ref = { i: this.referenceIntensity!, p: this.referencePhase!, v: this.referenceVisibility! };
    if (obj.i.data.length !== ref.i.data.length)
      throw new AddonError(`${this.name}: reference and object steppings differ in size`);
    this.intensity = map2(obj.i, ref.i, (o, r) => o / r);
    this.diffPhase = map2(obj.p, ref.p, (o, r) => wrapPhase(o - r));
    this.visibilityContrast = map2(obj.v, ref.v, (o, r) => o / r);
    await this.#write('intensity_contrast', this.intensity);
    await this.#write('differential_phase', this.diffPhase);
    await this.#write('visibility_contrast', this.visibilityContrast);
    const { gratingPeriod, propagationDistance } = await this.#numPeriodsOfExperiment();
    if (gratingPeriod !== undefined && propagationDistance !== undefined && propagationDistance > 0) {
      const scale = gratingPeriod / (2 * Math.PI * propagationDistance);
      this.diffPhaseInRad = makeFrame(
        Float32Array.from(this.diffPhase.data, (v) => v * scale),
        this.diffPhase.shape,
      );
      await this.#write('differential_phase_in_rad', this.diffPhaseInRad);
    }
  }

  async #write(name: string, frame: Frame<'float32'>): Promise<void> {
    if (!this.walker) return;
    const writer = await this.walker.writer(`${this.outputDirectory}/${name}`);
    try {
      await writer.write(withName(frame, name));
      await writer.close();
      this.#written++;
    } catch (error) {
      await writer.abort().catch(() => undefined);
      throw error;
    }
  }

  protected override counters(): Record<string, unknown> {
    return {
      darks: this.#dark ? 'averaged' : 'none',
      referenceFrames: this.#frames.reference.length,
      objectFrames: this.#frames.object.length,
      imagesWritten: this.#written,
    };
  }
}

function withName(frame: Frame<'float32'>, result: string): Frame<'float32'> {
  return { ...frame, metadata: { ...frame.metadata, result } };
}
