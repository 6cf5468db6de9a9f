/**
 * Exposure parts: how an imaging experiment exposes the sample. An experiment takes one as its
 * `exposure` option and calls it at the right moments — stopped for dark fields, started for flat
 * fields and projections, stopped when a run ends, also after a failure or `cancel()` — as
 * ophyd-async composes `…Logic` objects into devices instead of subclassing per variant.
 * @example
 * ```ts
 * const exp = await ContinuousTomography.create({ ..., exposure: shutterExposure(shutter) });
 * const lab = await SteppedTomography.create({ ..., exposure: tubeExposure(xrayTube) });
 * ```
 * @module
 */
import { zwhere, type Device } from '../../core/index.js';
import type { Shutter } from '../../devices/shutters/index.js';
import type { XRayTube } from '../../devices/xraytubes/index.js';

/** Starts and stops the sample's exposure to radiation. */
export interface Exposure {
  /** The device that exposes the sample (a shutter, an X-ray tube, …). */
  readonly device: Device;
  /** Exposes the sample (opens the shutter, switches the tube on); a no-op if it already is. */
  start(signal?: AbortSignal): Promise<void>;
  /** Stops exposing the sample (closes the shutter, switches the tube off); a no-op if it already is. */
  stop(signal?: AbortSignal): Promise<void>;
  /** Whether the sample is exposed now (dry runs count a switch only when it changes). */
  isExposing?(): Promise<boolean>;
  /** How long switching the exposure takes (ms), for dry runs (default 0). */
  switchTimeMs?(): Promise<number>;
}

/** Exposure by a beam shutter (synchrotrons): open to expose, closed for darks and after a run. */
export function shutterExposure(shutter: Shutter): Exposure {
  return {
    device: shutter,
    async start(signal) {
      if ((await shutter.getState()) !== 'open') await shutter.open({ signal });
    },
    async stop(signal) {
      if ((await shutter.getState()) !== 'closed') await shutter.close({ signal });
    },
    async isExposing() {
      return (await shutter.getState()) === 'open';
    },
    switchTimeMs: () => shutter.estimateMotion(),
  };
}

/** Exposure by an X-ray tube (labs): on to expose, off for darks and after a run. */
export function tubeExposure(tube: XRayTube): Exposure {
  return {
    device: tube,
    async start() {
      if ((await tube.getState()) !== 'on') await tube.on();
    },
    async stop() {
      if ((await tube.getState()) !== 'off') await tube.off();
    },
    async isExposing() {
      return (await tube.getState()) === 'on';
    },
  };
}

/** The schema of an `exposure` option. */
export const zexposure = zwhere(
  'an exposure part, e.g. shutterExposure(shutter) or tubeExposure(xrayTube)',
  (v): v is Exposure =>
    typeof v === 'object' &&
    v !== null &&
    typeof (v as Exposure).start === 'function' &&
    typeof (v as Exposure).stop === 'function',
);
