import assert from 'node:assert/strict';
import { useTangoDevice } from './device-fixture.js';
import { firstValueFrom, take, timeout, toArray } from 'rxjs';
import { DeviceProxy, TangoError } from '../../../tango/index.js';
import { decodeEvent } from '../../../tango/zmq-events.js';
import { TangoTestServer, tangoTestAvailable } from './tango-test-server.js';
import { PushServer, pyTangoAvailable } from './pytango-server.js';

describe('tango/events over ZeroMQ (PyTango push-event server)', function () {
  this.timeout(30000);
  const t = useTangoDevice(pyTangoAvailable, () => PushServer.start());

  it('delivers change events pushed by the server, starting with the current value', async () => {
    await t.dev.command('Push', 1);
    const values = firstValueFrom(
      t.dev.subscribe('counter', 'change', { mode: 'zmq' }).pipe(take(3), toArray(), timeout(10000)),
    );
    // The SUB socket needs a moment to join; push until the events arrive.
    const pusher = setInterval(() => {
      void t.dev.command('Push', 2).catch(() => undefined);
    }, 300);
    try {
      const got = await values;
      assert.equal(got[0]!.value, 1n);
      assert.equal(got[2]!.value, 2n);
      assert.equal(got[2]!.name, 'counter');
    } finally {
      clearInterval(pusher);
    }
  });

  it('delivers periodic events of a polled attribute', async () => {
    const got = await firstValueFrom(
      t.dev.subscribe('ticks', 'periodic', { mode: 'zmq' }).pipe(take(3), toArray(), timeout(10000)),
    );
    assert.equal(got.length, 3);
    assert.ok(got.every((r) => typeof r.value === 'number' && r.format === 'SCALAR'));
    assert.ok(got[2]!.time > got[0]!.time);
  });

  it('rejects subscriptions the server refuses with its reason', async () => {
    await assert.rejects(
      firstValueFrom(t.dev.subscribe('spectrum', 'change', { mode: 'zmq' }).pipe(timeout(10000))),
      (e: unknown) =>
        e instanceof TangoError && /API_AttributePollingNotStarted|API_EventPropertiesNotSet/.test(e.message),
    );
  });
});

describe('tango/events: decoding', () => {
  it('decodes an event message as a Tango 9.3 server sends it, and rejects garbage', () => {
    const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'hex'));
    const frames = [
      new TextEncoder().encode('tango://vm:1/test/push/1/counter#dbase=no.idl5_change'),
      hex('01'),
      hex('010000000000000001000000007f00000000000000'),
      hex(
        'c0dec0de030000000200000007000000000000000000000000000000000000000000000017000000' +
          '3a6a026bfc780a000000000008000000636f756e746572000100000000000000010000000000000000000000',
      ),
    ];
    const r = decodeEvent(frames, 'test/push/1', 'change event');
    assert.deepEqual([r.name, r.value, r.writeValue, r.dataType, r.quality], ['counter', 7n, 0n, 23, 'VALID']);
    assert.throws(() => decodeEvent(frames.slice(0, 3), 'd', 'e'), /3 parts/);
    assert.throws(() => decodeEvent([...frames.slice(0, 3), hex('c0dec0de0300')], 'd', 'e'), /bad event message/);
  });
});

describe('tango/events against TangoTest (polling fallback)', function () {
  this.timeout(30000);
  let server: TangoTestServer | undefined;
  let dev: DeviceProxy | undefined;

  before(async function () {
    if (!tangoTestAvailable()) this.skip();
    server = await TangoTestServer.start();
    dev = await DeviceProxy.create(server.url);
  });
  after(async () => {
    await dev?.close();
    await server?.stop();
  });

  it('falls back to client polling when the server refuses ZeroMQ events', async () => {
    await dev!.writeAttribute('string_scalar', 'first');
    const values = firstValueFrom(
      dev!.subscribe('string_scalar', 'change', { pollingPeriodMs: 50 }).pipe(take(2), toArray(), timeout(10000)),
    );
    setTimeout(() => {
      void dev!.writeAttribute('string_scalar', 'second');
    }, 400);
    assert.deepEqual(
      (await values).map((r) => r.value),
      ['first', 'second'],
    );
  });

  it('periodic polling emits every period', async () => {
    const t0 = Date.now();
    const got = await firstValueFrom(
      dev!
        .subscribe('double_scalar', 'periodic', { mode: 'polling', pollingPeriodMs: 50 })
        .pipe(take(4), toArray(), timeout(10000)),
    );
    assert.equal(got.length, 4);
    assert.ok(Date.now() - t0 >= 140);
  });
});
