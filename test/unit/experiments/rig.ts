/**
 * A bench of dummy devices for imaging-experiment tests: fast motors and a camera that records,
 * at each grab, where the motors were and whether the beam was on.
 */
import { makeFrame, q } from '../../../core/index.js';
import * as cameras from '../../../devices/cameras/dummy.js';
import * as motors from '../../../devices/motors/dummy.js';
import * as shutters from '../../../devices/shutters/dummy.js';
import * as xraytubes from '../../../devices/xraytubes/dummy.js';

/** What the beam and the motors looked like when a frame was taken. */
export interface Shot {
  flat: number;
  angle: number;
  vertical: number;
  stepping: number;
  /** Velocity of the continuous rotation motor (deg/s) and of the vertical motor (mm/s). */
  velocity: number;
  verticalVelocity: number;
  shutter: string;
  tube: string;
}

export async function rig(options: { frameRate?: number; width?: number; height?: number } = {}) {
  const shots: Shot[] = [];
  const fast = { motionVelocity: q(1e6, 'mm/s') };
  const flatMotor = await motors.DummyLinearMotor.create(fast);
  const verticalMotor = await motors.DummyContinuousLinearMotor.create(fast);
  const steppingMotor = await motors.DummyLinearMotor.create(fast);
  const tomographyMotor = await motors.DummyContinuousRotationMotor.create({ motionVelocity: q(1e7, 'deg/s') });
  const steppedMotor = await motors.DummyRotationMotor.create({ motionVelocity: q(1e7, 'deg/s') });
  const shutter = await shutters.DummyShutter.create();
  const xrayTube = await xraytubes.DummyXRayTube.create();
  const width = options.width ?? 8;
  const height = options.height ?? 4;
  let which: 'continuous' | 'stepped' = 'continuous';
  const camera = await cameras.DummyCamera.create({
    width,
    height,
    frameRate: q(options.frameRate ?? 2000, 'Hz'),
    render: (index, _roi, exposedAt) => {
      shots.push({
        flat: flatMotor.motion.position(),
        // At the frame's exposure time: a camera that keeps its schedule may hand frames out late.
        angle: (which === 'continuous' ? tomographyMotor : steppedMotor).motion.position(exposedAt),
        vertical: verticalMotor.motion.position(),
        stepping: steppingMotor.motion.position(),
        velocity: tomographyMotor.motion.velocity,
        verticalVelocity: verticalMotor.motion.velocity,
        shutter: shutter.state.current,
        tube: xrayTube.state.current,
      });
      // `shot` ties each frame to where the motors were when it was taken.
      return makeFrame(new Uint16Array(width * height).fill(index), [height, width], { shot: shots.length - 1 });
    },
  });
  return {
    shots,
    camera,
    flatMotor,
    verticalMotor,
    steppingMotor,
    tomographyMotor,
    steppedMotor,
    shutter,
    xrayTube,
    /** Which rotation motor `Shot.angle` reads. */
    use(motor: 'continuous' | 'stepped') {
      which = motor;
    },
    async close() {
      for (const d of [
        camera,
        flatMotor,
        verticalMotor,
        steppingMotor,
        tomographyMotor,
        steppedMotor,
        shutter,
        xrayTube,
      ])
        await d.disconnect();
    },
  };
}
