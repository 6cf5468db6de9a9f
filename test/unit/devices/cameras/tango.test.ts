import assert from 'node:assert/strict';
import { NotConnectedError, OptionError, q } from '../../../../core/index.js';
import * as tango from '../../../../devices/cameras/tango.js';
import { describeCamera } from '../../../conformance/camera.case.js';
import { rejectsWith } from '../../../support/async.js';
import { TangoTestServer, tangoTestAvailable } from '../../tango/tango-test-server.js';
import { MotorServer, pyTangoAvailable } from '../motors/fixtures/motor-server.js';

describe('devices/cameras/tango', function () {
  this.timeout(30000);
  let server: TangoTestServer | undefined;

  before(async function () {
    if (!tangoTestAvailable()) return this.skip();
    server = await TangoTestServer.start();
  });

  after(async () => {
    await server?.stop();
  });

  // TangoTest has a read-only image and no acquisition commands: triggers, pacing and the ROI are
  // handled by the camera itself, so the whole suite applies.
  describeCamera(() => tango.TangoCamera.create({ device: server!.url, imageAttribute: 'ushort_image_ro' }));

  it('reads TangoTest images of several types as typed arrays of the sensor size', async () => {
    for (const [attribute, dtype] of [
      ['ushort_image_ro', 'uint16'],
      ['double_image_ro', 'float64'],
      ['float_image_ro', 'float32'],
      ['long_image_ro', 'int32'],
      ['uchar_image_ro', 'uint8'],
    ] as const) {
      const c = await tango.TangoCamera.create({ name: 'tg', device: server!.url, imageAttribute: attribute });
      try {
        const estimate = await c.estimateFrames();
        const f = await c.recording(() => c.grab());
        assert.equal(f.dtype, dtype, attribute);
        assert.equal(estimate.dtype, dtype, `${attribute}: a dry run knows the device's dtype`);
        assert.deepEqual(estimate.shape, f.shape);
        assert.deepEqual(Object.keys(estimate.metadata(0)), Object.keys(f.metadata));
        const width = (await c.param('roiWidth').get()).toNumber('px');
        const height = (await c.param('roiHeight').get()).toNumber('px');
        assert.deepEqual(f.shape, [height, width]);
        assert.equal(typeof f.metadata['tangoTime'], 'number');
      } finally {
        await c.disconnect();
      }
    }
  });

  it('keeps exposure time and frame rate itself when the device has no attributes for them', async () => {
    const c = await tango.TangoCamera.create({
      name: 'tg',
      device: server!.url,
      imageAttribute: 'ushort_image_ro',
      exposureTime: q('5 ms'),
      frameRate: q('20 Hz'),
    });
    try {
      assert.equal((await c.getExposureTime()).toNumber('ms'), 5);
      assert.equal((await c.getFrameRate()).toNumber('Hz'), 20);
    } finally {
      await c.disconnect();
    }
  });

  it('maps exposure time and frame rate to attributes (double_scalar stands in for both)', async () => {
    const c = await tango.TangoCamera.create({
      name: 'tg',
      device: server!.url,
      imageAttribute: 'ushort_image_ro',
      exposureTimeAttribute: 'double_scalar',
      frameRateAttribute: 'double_scalar_w',
    });
    try {
      await c.setExposureTime(q('0.25 s'));
      assert.equal((await c.proxy.readAttribute('double_scalar')).writeValue, 0.25);
      await c.setFrameRate(q('12 Hz'));
      assert.equal((await c.getFrameRate()).toNumber('Hz'), 12);
    } finally {
      await c.disconnect();
    }
  });

  it('refuses a missing or non-image attribute and unknown commands', async () => {
    await rejectsWith(
      tango.TangoCamera.create({ name: 'x', device: server!.url }),
      NotConnectedError,
      /no attribute 'image'/,
    );
    await rejectsWith(
      tango.TangoCamera.create({ name: 'x', device: server!.url, imageAttribute: 'double_spectrum_ro' }),
      OptionError,
      /is a SPECTRUM, not an IMAGE/,
    );
    await rejectsWith(
      tango.TangoCamera.create({ name: 'x', device: server!.url, imageAttribute: 'string_image_ro' }),
      Error,
      /numeric image/,
    );
    await rejectsWith(
      tango.TangoCamera.create({
        name: 'x',
        device: server!.url,
        imageAttribute: 'ushort_image_ro',
        startCommand: 'Snap',
      }),
      OptionError,
      /no command 'Snap'/,
    );
  });

  describe('with acquisition commands (PyTango SimCamera)', () => {
    let sim: MotorServer | undefined;
    before(async function () {
      if (!pyTangoAvailable()) return this.skip();
      sim = await MotorServer.start();
    });
    after(async () => {
      await sim?.stop();
    });

    describeCamera(async () => tango.TangoCamera.create({ device: await sim!.camera() }));

    it('runs Start/Stop with the recording, Trigger with trigger(), and maps exposure (ms) and frame rate', async () => {
      const c = await tango.TangoCamera.create({ name: 'sim', device: await sim!.camera() });
      const raw = await sim!.raw('camera/sim/1');
      try {
        assert.equal((await c.getExposureTime()).toNumber('ms'), 10);
        await c.setExposureTime(q('0.25 s'));
        assert.equal((await raw.readAttribute('exposure_time')).value, 250);
        await c.setFrameRate(q('40 Hz'));
        assert.equal((await raw.readAttribute('frame_rate')).value, 40);
        await c.setTriggerSource('SOFTWARE');
        await c.recording(async () => {
          assert.equal(await raw.state(), 'RUNNING');
          await c.trigger();
          const f = await c.grab();
          assert.deepEqual(f.shape, [12, 16]);
          assert.equal(f.dtype, 'uint16');
          assert.ok(f.data.every((v) => v === 1));
          await c.trigger();
          assert.equal((await c.grab()).data[0], 2);
        });
        assert.equal(await raw.state(), 'ON');
        assert.equal(Number((await raw.readAttribute('triggers')).value), 2);
      } finally {
        await c.disconnect();
      }
    });
  });
});
