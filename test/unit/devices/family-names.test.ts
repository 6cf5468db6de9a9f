import assert from 'node:assert/strict';
import * as dummyCameras from '../../../devices/cameras/dummy.js';
import * as remoteCameras from '../../../devices/cameras/remote.js';
import * as tangoCameras from '../../../devices/cameras/tango.js';
import * as dummyMotors from '../../../devices/motors/dummy.js';
import * as tangoMotors from '../../../devices/motors/tango.js';
import * as dummyShutters from '../../../devices/shutters/dummy.js';
import * as tangoShutters from '../../../devices/shutters/tango.js';
import * as dummyTubes from '../../../devices/xraytubes/dummy.js';

describe('devices: family names of the backend modules', () => {
  const motors = ['LinearMotor', 'RotationMotor', 'ContinuousLinearMotor', 'ContinuousRotationMotor'] as const;
  const cases: Array<[string, Record<string, unknown>, string, string]> = [
    ['cameras/dummy', dummyCameras, 'Camera', 'DummyCamera'],
    ['cameras/remote', remoteCameras, 'Camera', 'RemoteCamera'],
    ['cameras/tango', tangoCameras, 'Camera', 'TangoCamera'],
    ...motors.map((m): [string, Record<string, unknown>, string, string] => [
      'motors/dummy',
      dummyMotors,
      m,
      `Dummy${m}`,
    ]),
    ...motors.map((m): [string, Record<string, unknown>, string, string] => [
      'motors/tango',
      tangoMotors,
      m,
      `Tango${m}`,
    ]),
    ['shutters/dummy', dummyShutters, 'Shutter', 'DummyShutter'],
    ['shutters/tango', tangoShutters, 'Shutter', 'TangoShutter'],
    ['xraytubes/dummy', dummyTubes, 'XRayTube', 'DummyXRayTube'],
  ];
  for (const [module, exports, family, own] of cases) {
    it(`concert/devices/${module} exports ${own} also as ${family}`, () => {
      assert.equal(typeof exports[own], 'function');
      assert.equal(exports[family], exports[own]);
      assert.equal((exports[own] as { name: string }).name, own);
    });
  }
});
