import assert from 'node:assert/strict';
import * as tango from '../../../../devices/shutters/tango.js';
import { OptionError } from '../../../../core/index.js';
import { describeShutter } from '../../../conformance/shutter.case.js';
import { rejectsWith } from '../../../support/async.js';
import { useMotorServer } from '../motors/fixtures/motor-server.js';

describe('devices/shutters/tango', function () {
  this.timeout(30000);
  const fixture = useMotorServer();

  describeShutter(async () => tango.TangoShutter.create({ device: await fixture.server.shutter() }));

  it('reports what the hardware says, also after someone else moved it', async () => {
    const s = await tango.TangoShutter.create({ name: 'fe', device: await fixture.server.shutter() });
    try {
      assert.equal(await s.getState(), 'open');
      await (await fixture.server.raw('shutter/sim/1')).command('Close');
      assert.equal(await s.getState(), 'closed');
      await s.open();
      assert.equal(await s.getState(), 'open');
    } finally {
      await s.disconnect();
    }
  });

  it('maps other states as configured and refuses unknown commands and states', async () => {
    const url = await fixture.server.shutter();
    const s = await tango.TangoShutter.create({
      name: 'stop',
      device: url,
      openState: 'CLOSE',
      closedState: 'OPEN',
      openCommand: 'Close',
      closeCommand: 'Open',
    });
    try {
      assert.equal(await s.getState(), 'closed');
      await s.open();
      assert.equal(await (await fixture.server.raw('shutter/sim/1')).state(), 'CLOSE');
    } finally {
      await s.disconnect();
    }
    await rejectsWith(
      tango.TangoShutter.create({ device: url, openCommand: 'Lift' }),
      OptionError,
      /no command 'Lift'/,
    );
    await rejectsWith(tango.TangoShutter.create({ device: url, openState: 'AJAR' as never }), OptionError, /openState/);
    await rejectsWith(tango.TangoShutter.create({} as never), OptionError, /option 'device'/);
  });
});
