/**
 * Who may subscribe to a device server's events: an allow-list of client addresses through the
 * process's ZAP handler (standard Tango clients use the NULL mechanism), tried with our client and
 * with PyTango.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { firstValueFrom, take, timeout, toArray } from 'rxjs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as zmq from 'zeromq';
import { DeviceProxy } from '../../../../tango/index.js';
import { requestEvents } from '../../../../tango/zmq-events.js';
import { DeviceServer } from '../../../../tango/server/index.js';
import { AllowList, generateKeyPair } from '../../../../transport/zmq/index.js';
import { pyTangoAvailable } from '../pytango-server.js';
import { matrixDevice } from './fixtures/matrix-device.js';

const script = fileURLToPath(new URL('./fixtures/pytango_events.py', import.meta.url));

function python(url: string): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile('/usr/bin/python3', [script, url], { timeout: 60_000 }, (err, out, errOut) =>
      err ? reject(new Error(`${script} failed: ${err.message}\n${errOut.slice(-2000)}`)) : resolve(out),
    ),
  );
}

async function serve(addresses: string[]): Promise<{ server: DeviceServer; allow: AllowList; dev: DeviceProxy }> {
  const allow = await AllowList.addresses(addresses, 'matrix Tango server events');
  const server = await DeviceServer.create({
    server: 'matrix',
    instance: 'zap',
    devices: [{ name: 'test/matrix/1', definition: matrixDevice() }],
    events: { allow },
  });
  return { server, allow, dev: await DeviceProxy.create(server.url('test/matrix/1')) };
}

/** Pushes counter values while `fn` runs. */
async function pushing<T>(dev: DeviceProxy, fn: () => Promise<T>): Promise<T> {
  await dev.command('Push', 1n);
  const pusher = setInterval(() => void dev.command('Push', 2n).catch(() => undefined), 150);
  try {
    return await fn();
  } finally {
    clearInterval(pusher);
  }
}

describe('tango/server: who may subscribe to events (ZAP)', function () {
  this.timeout(120_000);

  it('an allowed address gets the events; another is refused, and the refusal is logged with its address', async () => {
    const allowed = await serve(['127.0.0.1']);
    try {
      const values = await pushing(allowed.dev, () =>
        firstValueFrom(
          allowed.dev.subscribe('counter', 'change', { mode: 'zmq' }).pipe(take(2), toArray(), timeout(10_000)),
        ),
      );
      assert.equal(values[0]!.value, 1n);
      assert.deepEqual(allowed.allow.refusals, []);
    } finally {
      await allowed.dev.close();
      await allowed.server.stop();
      allowed.allow.close();
    }

    const refused = await serve(['10.11.12.13']);
    try {
      await assert.rejects(
        pushing(refused.dev, () =>
          firstValueFrom(
            refused.dev.subscribe('counter', 'change', { mode: 'zmq' }).pipe(take(2), toArray(), timeout(3000)),
          ),
        ),
        (error: Error) => error.name === 'TimeoutError' || /refus|heartbeat|event/i.test(error.message),
      );
      // The handshake (and so the refusal) can come after the subscription timed out on a loaded machine.
      const deadline = Date.now() + 20_000;
      while (refused.allow.refusals.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      assert.ok(refused.allow.refusals.length > 0, 'the ZAP handler refused the subscriber');
      assert.equal(refused.allow.refusals[0]!.address, '127.0.0.1');
    } finally {
      await refused.dev.close();
      await refused.server.stop();
      refused.allow.close();
    }
  });

  it('CURVE: with a secret key only subscribers whose key is authorized get events; others are refused with their key', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'concert-tango-curve-'));
    const serverPair = generateKeyPair();
    const ours = generateKeyPair();
    const stranger = generateKeyPair();
    await writeFile(join(dir, 'ours.key'), ours.publicKey);
    const allow = await AllowList.open(dir, 'matrix Tango server events');
    const server = await DeviceServer.create({
      server: 'matrix',
      instance: 'curve',
      devices: [{ name: 'test/matrix/1', definition: matrixDevice() }],
      events: { allow, curveSecretKey: serverPair.secretKey },
    });
    const dev = await DeviceProxy.create(server.url('test/matrix/1'));
    const subscribers: zmq.Subscriber[] = [];
    /** The first event a CURVE subscriber with `pair` gets within `ms` (undefined: none). */
    const firstEvent = async (pair: { publicKey: string; secretKey: string }, ms: number) => {
      const channel = await requestEvents(dev, 'counter', 'change');
      const sub = new zmq.Subscriber({ linger: 0 });
      subscribers.push(sub);
      sub.curveServerKey = serverPair.publicKey;
      sub.curvePublicKey = pair.publicKey;
      sub.curveSecretKey = pair.secretKey;
      sub.connect(channel.eventEndpoint);
      sub.subscribe(channel.topic);
      return pushing(dev, () =>
        Promise.race([
          sub.receive().then((parts) => parts[0]!.toString()),
          new Promise<undefined>((resolve) => setTimeout(resolve, ms)),
        ]),
      );
    };
    try {
      assert.match((await firstEvent(ours, 10_000)) ?? 'no event', /test\/matrix\/1\/counter/);
      assert.equal(await firstEvent(stranger, 1500), undefined, 'an unauthorized key gets no event');
      assert.equal(allow.refusals.at(-1)?.key, stranger.publicKey);
    } finally {
      for (const s of subscribers) s.close();
      await dev.close();
      await server.stop();
      allow.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('PyTango: an allowed address gets the events, another gets none', async function () {
    if (!pyTangoAvailable()) {
      console.log('      skipping: python3-tango is not installed');
      this.skip();
    }
    for (const [addresses, expectEvents] of [
      [['127.0.0.1'], true],
      [['10.11.12.13'], false],
    ] as const) {
      const { server, allow, dev } = await serve([...addresses]);
      try {
        const out = await python(server.url('test/matrix/1'));
        // The first value is read at subscription (over GIOP); pushed ones come through the event socket.
        const m = /PUSHED (\d+)/.exec(out);
        assert.ok(m, out);
        if (expectEvents) {
          assert.ok(Number(m[1]) >= 2, out);
          assert.deepEqual(allow.refusals, []);
        } else {
          assert.equal(Number(m[1]), 0, `no pushed event reaches a refused PyTango client: ${out}`);
          assert.ok(allow.refusals.length > 0, out);
        }
      } finally {
        await dev.close();
        await server.stop();
        allow.close();
      }
    }
  });
});
