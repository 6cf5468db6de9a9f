import assert from 'node:assert/strict';
import { OptionError, q } from '../../../core/index.js';
import * as shutters from '../../../devices/shutters/dummy.js';
import * as xraytubes from '../../../devices/xraytubes/dummy.js';
import { Radiography, shutterExposure, synchrotron, tubeExposure } from '../../../experiments/index.js';
import { rejectsWith } from '../../support/async.js';
import { rig } from './rig.js';

describe('experiments/imaging/exposure', () => {
  it('shutterExposure opens and closes a shutter, only when needed', async () => {
    const shutter = await shutters.DummyShutter.create();
    const exposure = shutterExposure(shutter);
    assert.equal(exposure.device, shutter);
    await exposure.stop();
    assert.equal(await shutter.getState(), 'closed');
    await exposure.stop();
    await exposure.start();
    await exposure.start();
    assert.equal(await shutter.getState(), 'open');
    await shutter.disconnect();
  });

  it('tubeExposure switches a tube on and off, only when needed', async () => {
    const tube = await xraytubes.DummyXRayTube.create();
    const exposure = tubeExposure(tube);
    await exposure.start();
    await exposure.start();
    assert.equal(await tube.getState(), 'on');
    await exposure.stop();
    await exposure.stop();
    assert.equal(await tube.getState(), 'off');
    await tube.disconnect();
  });

  it('an imaging experiment takes its exposure part as an option; a missing or wrong one is a clear error', async () => {
    const r = await rig();
    try {
      const options = { camera: r.camera, flatMotor: r.flatMotor, radioPosition: q('0 mm'), flatPosition: q('1 mm') };
      const exp = await Radiography.create({
        ...options,
        exposure: tubeExposure(r.xrayTube),
        numDarks: 1,
        numFlats: 1,
        numProjections: 1,
      });
      assert.equal(exp.exposure.device, r.xrayTube);
      await exp.run();
      assert.deepEqual(
        r.shots.map((s) => s.tube),
        ['off', 'on', 'on'],
      );
      assert.equal(await r.xrayTube.getState(), 'off', 'exposure stopped after the run');
      await rejectsWith(
        Radiography.create(options as never),
        OptionError,
        "Radiography.create: option 'exposure' is required (an exposure part, e.g. shutterExposure(shutter) or tubeExposure(xrayTube))",
      );
      await rejectsWith(
        Radiography.create({ ...options, exposure: r.shutter } as never),
        OptionError,
        "Radiography.create: option 'exposure' must be an exposure part, " +
          'e.g. shutterExposure(shutter) or tubeExposure(xrayTube), got DummyShutter',
      );
      await rejectsWith(
        synchrotron.Radiography.create({ ...options, shutter: r.xrayTube } as never),
        OptionError,
        "synchrotron.Radiography.create: option 'shutter' must be a Shutter, got DummyXRayTube",
      );
      await rejectsWith(
        synchrotron.Radiography.create({ ...options, shutter: r.shutter, exposure: tubeExposure(r.xrayTube) } as never),
        OptionError,
        /unknown option 'exposure' \(allowed: .*shutter/,
      );
    } finally {
      await r.close();
    }
  });
});
