import assert from 'node:assert/strict';
import * as tango from '../../../../devices/shutters/tango.js';
import { OptionError } from '../../../../core/index.js';
import { describeShutter } from '../../../conformance/shutter.case.js';
import { rejectsWith } from '../../../support/async.js';
import { MotorServer, pyTangoAvailable } from '../motors/fixtures/motor-server.js';

describe('devices/shutters/tango', function () {
  this.timeout(30000);
  let server: MotorServer | undefined;

  before(async function () {
    if (!pyTangoAvailable()) return this.skip();
    server = await MotorServer.start();
  });

  after(async () => {
    await server?.stop();
  });

  describeShutter(async () => tango.Shutter.create({ device: await server!.shutter() }));

  it('reports what the hardware says, also after someone else moved it', async () => {
    const s = await tango.Shutter.create({ name: 'fe', device: await server!.shutter() });
    try {
      assert.equal(await s.getState(), 'open');
      await (await server!.raw('shutter/sim/1')).command('Close');
      assert.equal(await s.getState(), 'closed');
      await s.open();
      assert.equal(await s.getState(), 'open');
    } finally {
      await s.disconnect();
    }
  });

  it('maps other states as configured and refuses unknown commands and states', async () => {
    const url = await server!.shutter();
    const s = await tango.Shutter.create({ name: 'stop', device: url, openState: 'CLOSE', closedState: 'OPEN', openCommand: 'Close', closeCommand: 'Open' });
    try {
      assert.equal(await s.getState(), 'closed');
      await s.open();
      assert.equal((await (await server!.raw('shutter/sim/1')).state()), 'CLOSE');
    } finally {
      await s.disconnect();
    }
    await rejectsWith(tango.Shutter.create({ device: url, openCommand: 'Lift' }), OptionError, /no command 'Lift'/);
    await rejectsWith(tango.Shutter.create({ device: url, openState: 'AJAR' as never }), OptionError, /openState/);
    await rejectsWith(tango.Shutter.create({} as never), OptionError, /option 'device'/);
  });
});
