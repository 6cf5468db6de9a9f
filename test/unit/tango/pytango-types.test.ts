import assert from 'node:assert/strict';
import { DeviceProxy } from '../../../tango/index.js';
import { PushServer, pyTangoAvailable } from './pytango-server.js';

describe('tango/device-proxy: enum, DevState and DevEncoded attributes and commands (PyTango server)', function () {
  this.timeout(30000);
  let server: PushServer | undefined;
  let dev: DeviceProxy | undefined;

  before(async function () {
    if (!pyTangoAvailable()) this.skip();
    server = await PushServer.start();
    dev = await DeviceProxy.create(server.url);
  });
  after(async () => {
    await dev?.close();
    await server?.stop();
  });

  it('reads and writes an enum attribute as its index, with the labels in the configuration', async () => {
    const [config] = await dev!.attributeConfig(['mode']);
    assert.equal(config!.dataType, 29);
    assert.deepEqual(config!.enumLabels, ['off', 'slow', 'fast']);
    await dev!.writeAttribute('mode', 2);
    const r = await dev!.readAttribute('mode');
    assert.deepEqual([r.value, r.writeValue, r.dataType], [2, 2, 29]);
  });

  it('reads and writes a DevState attribute as a state name', async () => {
    assert.equal((await dev!.readAttribute('gate')).value, 'CLOSE');
    await dev!.writeAttribute('gate', 'OPEN');
    const r = await dev!.readAttribute('gate');
    assert.equal(r.value, 'OPEN');
    assert.equal(r.dataType, 19);
  });

  it('reads a DevEncoded attribute as format and bytes', async () => {
    const r = await dev!.readAttribute('blob');
    const v = r.value as { format: string; data: Uint8Array };
    assert.equal(v.format, 'raw');
    assert.deepEqual(Array.from(v.data), [1, 2, 255]);
  });

  it('round-trips DevState, DevVarBooleanArray and DevEncoded command arguments', async () => {
    assert.equal(await dev!.command('EchoState', 'MOVING'), 'MOVING');
    assert.deepEqual(await dev!.command('EchoBooleans', [true, false, true]), [true, false, true]);
    const enc = (await dev!.command('EchoEncoded', { encoded_format: 'fmt', encoded_data: new Uint8Array([0, 9, 255]) })) as
      { encoded_format: string; encoded_data: Uint8Array };
    assert.equal(enc.encoded_format, 'fmt');
    assert.deepEqual(Array.from(enc.encoded_data), [0, 9, 255]);
  });
});
