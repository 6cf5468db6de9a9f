import assert from 'node:assert/strict';
import { useTangoDevice } from './device-fixture.js';
import { PushServer, pyTangoAvailable } from './pytango-server.js';

describe('tango/device-proxy: enum, DevState and DevEncoded attributes and commands (PyTango server)', function () {
  this.timeout(30000);
  const t = useTangoDevice(pyTangoAvailable, () => PushServer.start());

  it('reads and writes an enum attribute as its index, with the labels in the configuration', async () => {
    const [config] = await t.dev.attributeConfig(['mode']);
    assert.equal(config!.dataType, 29);
    assert.deepEqual(config!.enumLabels, ['off', 'slow', 'fast']);
    await t.dev.writeAttribute('mode', 2);
    const r = await t.dev.readAttribute('mode');
    assert.deepEqual([r.value, r.writeValue, r.dataType], [2, 2, 29]);
  });

  it('reads and writes a DevState attribute as a state name', async () => {
    assert.equal((await t.dev.readAttribute('gate')).value, 'CLOSE');
    await t.dev.writeAttribute('gate', 'OPEN');
    const r = await t.dev.readAttribute('gate');
    assert.equal(r.value, 'OPEN');
    assert.equal(r.dataType, 19);
  });

  it('reads a DevEncoded attribute as format and bytes', async () => {
    const r = await t.dev.readAttribute('blob');
    const v = r.value as { format: string; data: Uint8Array };
    assert.equal(v.format, 'raw');
    assert.deepEqual(Array.from(v.data), [1, 2, 255]);
  });

  it('round-trips DevState, DevVarBooleanArray and DevEncoded command arguments', async () => {
    assert.equal(await t.dev.command('EchoState', 'MOVING'), 'MOVING');
    assert.deepEqual(await t.dev.command('EchoBooleans', [true, false, true]), [true, false, true]);
    const enc = (await t.dev.command('EchoEncoded', {
      encoded_format: 'fmt',
      encoded_data: new Uint8Array([0, 9, 255]),
    })) as { encoded_format: string; encoded_data: Uint8Array };
    assert.equal(enc.encoded_format, 'fmt');
    assert.deepEqual(Array.from(enc.encoded_data), [0, 9, 255]);
  });
});
