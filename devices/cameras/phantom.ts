/**
 * Phantom mode of the dummy camera: frames are transmission projections of the Shepp-Logan
 * phantom at the rotation motor's current angle, with flat field and dark current following the
 * shutter and the flat motor — so an online reconstruction of a dummy tomography shows the
 * phantom.
 * @module
 */
import { isQuantity, makeFrame, z, zinstance, zwhere, type Frame, type Unit } from '../../core/index.js';
import { phantomProjection } from '../../reco/phantom.js';
import { Motor } from '../motors/base.js';
import { SimulatedMotion } from '../motors/dummy.js';
import { Shutter } from '../shutters/base.js';
import type { Roi } from './base.js';

/** What drives the phantom. */
export const PHANTOM_OPTIONS = z.strictObject({
  /** The rotation motor whose angle the projection is taken at. */
  motor: zinstance(Motor),
  /** Closed shutter → dark frames. */
  shutter: zinstance(Shutter).optional(),
  /** The flat motor (frames are flat fields at `flatPosition`). */
  flatMotor: zinstance(Motor).optional(),
  /** The flat motor's position out of the sample. */
  flatPosition: zwhere('a quantity', isQuantity).optional(),
  /** Counts of the open beam (default 4000). */
  beam: z.number().min(0).optional(),
  /** Counts of the dark current (default 100). */
  dark: z.number().min(0).optional(),
  /** Attenuation per phantom unit and pixel (default 4 / sensor width). */
  mu: z.number().optional(),
});

/** What drives the phantom. */
export type PhantomOptions = z.input<typeof PHANTOM_OPTIONS>;

/** The `render` function of the dummy camera for a `width`-wide sensor. */
export function phantomRenderer(
  options: PhantomOptions,
  width: number,
): (index: number, roi: Roi, exposedAt: number) => Promise<Frame> {
  const { motor, shutter, flatMotor, flatPosition, beam = 4000, dark = 100, mu = 4 / width } = options;
  const line = new Float32Array(width);
  return async (_index, roi, exposedAt) => {
    const [angle, state, flat] = await Promise.all([
      angleAt(motor, exposedAt),
      shutter ? shutter.getState() : 'open',
      flatMotor && flatPosition ? flatMotor.position.get() : undefined,
    ]);
    const open = state === 'open';
    const inFlat =
      flat !== undefined &&
      flatPosition !== undefined &&
      Math.abs(flat.toNumber('mm') - flatPosition.toNumber('mm')) < 1e-6;
    if (open && !inFlat) phantomProjection(angle.toNumber('rad'), { width }, line);
    const data = new Uint16Array(roi.width * roi.height);
    for (let c = 0; c < roi.width; c++) {
      const value = !open ? dark : dark + beam * (inFlat ? 1 : Math.exp(-mu * line[roi.x0 + c]!));
      data[c] = Math.round(value);
    }
    for (let r = 1; r < roi.height; r++) data.copyWithin(r * roi.width, 0, roi.width);
    return makeFrame(data, [roi.height, roi.width]);
  };
}

/** The motor's angle at time `at` (exact for simulated motors, which keep their motion; otherwise now). */
async function angleAt(motor: Motor, at: number): Promise<Unit> {
  if (motor.motion instanceof SimulatedMotion) return motor.position.quantity(motor.motion.position(at));
  return motor.position.get();
}
