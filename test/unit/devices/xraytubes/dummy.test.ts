import assert from 'node:assert/strict';
import { format, OptionError } from '../../../../core/index.js';
import * as dummy from '../../../../devices/xraytubes/dummy.js';
import { describeXRayTube } from '../../../conformance/xraytube.case.js';
import { rejectsWith } from '../../../support/async.js';

describe('devices/xraytubes/dummy', () => {
  describeXRayTube(() => dummy.DummyXRayTube.create());

  it('starts off at 0 kV and 0 µA', async () => {
    const t = await dummy.DummyXRayTube.create({ name: 'tube' });
    assert.equal(await t.getState(), 'off');
    assert.equal(format(await t.getPower()), '0 W');
  });

  it('refuses unknown options', async () => {
    await rejectsWith(dummy.DummyXRayTube.create({ voltage: 1 } as never), OptionError, /unknown option 'voltage'/);
  });
});
