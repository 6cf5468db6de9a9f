import assert from 'node:assert/strict';
import {
  Device,
  emergencyStopAll,
  registerDevice,
  registeredDevices,
  unregisterDevice,
  errorMessage,
} from '../../../core/index.js';

class Safe extends Device {
  stops = 0;
  protected override async stopHook(): Promise<void> {
    this.stops++;
  }
}
class Broken extends Device {
  protected override async stopHook(): Promise<void> {
    throw new Error('no answer');
  }
}

describe('core/registry', () => {
  it('emergencyStopAll() stops every registered device and collects failures', async () => {
    // Other test files' devices stay out of this emergency stop.
    const others = registeredDevices();
    for (const d of others) unregisterDevice(d);
    const a = await Safe.create({ name: 'a' });
    const b = await Broken.create({ name: 'b' });
    try {
      const failures = await emergencyStopAll();
      assert.equal(a.stops, 1);
      assert.deepEqual(
        failures.map((f) => [f.device.name, errorMessage(f.error)]),
        [['b', 'no answer']],
      );
      assert.ok(registeredDevices().indexOf(a) < registeredDevices().indexOf(b), 'creation order');
    } finally {
      await a.disconnect();
      await b.disconnect();
      for (const d of others) registerDevice(d);
    }
  });
});
