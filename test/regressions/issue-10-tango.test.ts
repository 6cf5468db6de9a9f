/**
 * Issue 10, item 12: the set point of WRITE attributes, and events across a server restart.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { firstValueFrom, filter, take, timeout, toArray, type Subscription } from 'rxjs';
import { DeviceProxy, type AttributeReading } from '../../tango/index.js';
import { TangoTestServer, tangoTestAvailable } from '../unit/tango/tango-test-server.js';
import { PushServer, pyTangoAvailable } from '../unit/tango/pytango-server.js';
import { useTangoDevice } from '../unit/tango/device-fixture.js';

describe('issue 10 (12): readAttribute gives the set point of WRITE attributes (TangoTest)', function () {
  this.timeout(30000);
  const t = useTangoDevice(tangoTestAvailable, () => TangoTestServer.start());
  const written = { double_scalar_w: 3.5, long_scalar_w: 7, ampli: 2.5 };

  it('a WRITE attribute sends one element: it is both value and set point', async () => {
    await t.dev.writeAttributes(written);
    for (const [name, value] of Object.entries(written)) {
      const r = await t.dev.readAttribute(name);
      assert.equal(r.value, value, `${name} value`);
      assert.equal(r.writeValue, value, `${name} set point`);
      assert.deepEqual([r.wDimX, r.wDimY], [1, 0]);
    }
  });

  it('READ_WITH_WRITE and READ_WRITE attributes keep value and set point apart', async () => {
    await t.dev.writeAttribute('long_scalar_w', 11);
    const rww = await t.dev.readAttribute('long_scalar_rww');
    assert.equal(rww.writeValue, 11);
    await t.dev.writeAttribute('double_scalar', 4.25);
    const rw = await t.dev.readAttribute('double_scalar');
    assert.equal(rw.writeValue, 4.25);
    assert.notEqual(typeof rw.value, 'undefined');
  });

  it('agrees with PyTango on value and w_value of the WRITE attributes', async function () {
    await t.dev.writeAttributes(written);
    let py: string;
    try {
      py = execFileSync(
        '/usr/bin/python3',
        [
          '-c',
          `import tango;d=tango.DeviceProxy('${t.server.url}')\n` +
            `for a in ${JSON.stringify(Object.keys(written))}:\n  r=d.read_attribute(a); print(a, r.value, r.w_value)`,
        ],
        { timeout: 10000 },
      ).toString();
    } catch {
      console.log('    skipping PyTango cross-check: /usr/bin/python3 cannot run PyTango here');
      this.skip();
    }
    const ours = [];
    for (const name of Object.keys(written)) {
      const r = await t.dev.readAttribute(name);
      const f = (v: unknown) => (Number.isInteger(v) && name.startsWith('long') ? String(v) : Number(v).toFixed(1));
      ours.push(`${name} ${f(r.value)} ${f(r.writeValue)}`);
    }
    assert.deepEqual(py.trim().split('\n'), ours);
  });
});

/** Collects what a subscription emits. */
function record(source: ReturnType<DeviceProxy['subscribe']>): {
  values: AttributeReading[];
  errors: unknown[];
  sub: Subscription;
} {
  const values: AttributeReading[] = [];
  const errors: unknown[] = [];
  const sub = source.subscribe({ next: (v) => values.push(v), error: (e: unknown) => errors.push(e) });
  return { values, errors, sub };
}

/** Waits until `check` holds, calling `poke` every 200 ms meanwhile. */
async function until(check: () => boolean, poke: () => Promise<unknown>, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await poke().catch(() => undefined);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('issue 10 (12): ZeroMQ events are subscribed again after the server restarts (PyTango)', function () {
  this.timeout(60000);
  let server: PushServer | undefined;
  let dev: DeviceProxy | undefined;

  before(async function () {
    if (!pyTangoAvailable()) this.skip();
    server = await PushServer.start();
    dev = await DeviceProxy.create(server.url, { timeoutMs: 1000 });
  });
  after(async () => {
    await dev?.close();
    await server?.stop();
  });

  it('change events keep coming after a restart, starting again with the current value', async () => {
    await dev!.command('Push', 1);
    const r = record(dev!.subscribe('counter', 'change', { mode: 'zmq', keepAliveMs: 500 }));
    try {
      await until(
        () => r.values.some((v) => v.value === 2n),
        () => dev!.command('Push', 2),
        10000,
        'an event before the restart',
      );
      await server!.restart();
      // The restarted server starts at 0: the re-subscription reads it, then events follow.
      await until(
        () => r.values.some((v) => v.value === 0n),
        async () => undefined,
        15000,
        'the value after restart',
      );
      await until(
        () => r.values.some((v) => v.value === 7n),
        () => dev!.command('Push', 7),
        10000,
        'an event pushed by the restarted server',
      );
      assert.deepEqual(r.errors, []);
    } finally {
      r.sub.unsubscribe();
    }
  });

  it('with reconnect: false the stream ends with an error naming the lost connection', async () => {
    const ended = firstValueFrom(
      dev!.subscribe('counter', 'change', { mode: 'zmq', reconnect: false }).pipe(toArray(), timeout(15000)),
    );
    ended.catch(() => undefined); // rejects while the server restarts: asserted below
    await new Promise((resolve) => setTimeout(resolve, 500));
    await server!.restart();
    await assert.rejects(ended, /counter.*(connection lost|closed)/);
  });

  it('unsubscribing while the server is down stops the attempts', async () => {
    const r = record(dev!.subscribe('counter', 'change', { mode: 'zmq', keepAliveMs: 200 }));
    await until(
      () => r.values.length > 0,
      async () => undefined,
      10000,
      'the first value',
    );
    await server!.stop();
    await new Promise((resolve) => setTimeout(resolve, 600));
    r.sub.unsubscribe();
    const before = r.values.length;
    await server!.restart();
    await dev!.command('Push', 9);
    await new Promise((resolve) => setTimeout(resolve, 800));
    assert.equal(r.values.length, before);
    assert.deepEqual(r.errors, []);
  });
});

describe('issue 10 (12): polled subscriptions go on across a TangoTest restart', function () {
  this.timeout(60000);
  let server: TangoTestServer | undefined;
  let dev: DeviceProxy | undefined;

  before(async function () {
    if (!tangoTestAvailable()) this.skip();
    server = await TangoTestServer.start();
    dev = await DeviceProxy.create(server.url, { timeoutMs: 1000 });
  });
  after(async () => {
    await dev?.close();
    await server?.stop();
  });

  it('the first reading after the restart is emitted, and changes follow', async () => {
    await dev!.writeAttribute('string_scalar', 'before');
    const r = record(dev!.subscribe('string_scalar', 'change', { mode: 'polling', pollingPeriodMs: 50 }));
    try {
      await until(
        () => r.values.some((v) => v.value === 'before'),
        async () => undefined,
        5000,
        "'before'",
      );
      await server!.restart();
      await dev!.writeAttribute('string_scalar', 'after');
      await until(
        () => r.values.some((v) => v.value === 'after'),
        async () => undefined,
        10000,
        "'after'",
      );
      assert.deepEqual(r.errors, []);
    } finally {
      r.sub.unsubscribe();
    }
  });

  it('an attribute that does not exist still ends the stream with the server reason', async () => {
    await assert.rejects(
      firstValueFrom(
        dev!.subscribe('no_such_attribute', 'change', { mode: 'polling', pollingPeriodMs: 50 }).pipe(
          filter(() => true),
          take(1),
          timeout(5000),
        ),
      ),
      /API_AttrNotFound/,
    );
  });
});
