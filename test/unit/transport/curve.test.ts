import assert from 'node:assert/strict';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ControlClient,
  ControlServer,
  curveClientOptions,
  curveServerOptions,
  ensureKeyPairs,
  generateKeyPair,
  readKey,
  readKeyPair,
  tcpEndpoint,
  TransportError,
  ZmqReceiver,
  ZmqSender,
} from '../../../transport/index.js';
import { Closer, rejection, testFrame } from './helpers.js';

describe('transport/zmq/curve', () => {
  const closer = new Closer();
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'concert-curve-'));
  });
  afterEach(async () => {
    closer.closeAll();
    await rm(dir, { recursive: true, force: true });
  });

  it('writes and reads key files (secret files private)', async () => {
    const { server, client } = await ensureKeyPairs(dir);
    assert.deepEqual(await readKeyPair(dir, 'server'), server);
    assert.equal((await readKey(dir, 'client')).length, 40);
    assert.notEqual(server.publicKey, client.publicKey);
    assert.equal((await stat(join(dir, 'server.key_secret'))).mode & 0o077, 0);
    assert.deepEqual(await ensureKeyPairs(dir), { server, client }, 'existing keys are kept');
    await writeFile(join(dir, 'bad.key'), 'not a key\n');
    await assert.rejects(readKey(dir, 'bad'), TransportError);
    await assert.rejects(readKey(dir, 'missing'), TransportError);
  });

  it('sends frames and control requests encrypted', async () => {
    await ensureKeyPairs(dir);
    const serverSide = await curveServerOptions(dir);
    const clientSide = await curveClientOptions(dir);
    const sender = closer.track(await ZmqSender.create({ mode: 'push', bind: tcpEndpoint(), curve: serverSide }));
    const receiver = closer.track(
      await ZmqReceiver.create({ mode: 'pull', connect: sender.endpoint, curve: clientSide }),
    );
    const sending = (async () => {
      await sender.send(testFrame('uint16', 32, 32, 4));
      await sender.end();
    })();
    const got: number[] = [];
    for await (const frame of receiver.stream({ idleTimeoutMs: 3000 })) got.push(frame.metadata.frameNumber);
    await sending;
    assert.deepEqual(got, [4]);

    const server = closer.track(
      await ControlServer.create({ bind: tcpEndpoint(), curve: serverSide, handlers: { ping: () => 'pong' } }),
    );
    const client = closer.track(
      await ControlClient.create({ connect: server.endpoint, curve: clientSide, timeoutMs: 2000 }),
    );
    assert.equal(await client.request('ping'), 'pong');
  });

  it('lets nothing through with a wrong server key or without CURVE: the client times out clearly', async () => {
    await ensureKeyPairs(dir);
    const serverSide = await curveServerOptions(dir);
    const wrong = { ...(await curveClientOptions(dir)), curveServerKey: generateKeyPair().publicKey };
    const sender = closer.track(
      await ZmqSender.create({ mode: 'push', bind: tcpEndpoint(), curve: serverSide, sendTimeoutMs: 300 }),
    );
    const receiver = closer.track(await ZmqReceiver.create({ mode: 'pull', connect: sender.endpoint, curve: wrong }));
    const plain = closer.track(await ZmqReceiver.create({ mode: 'pull', connect: sender.endpoint }));
    const sendError = await rejection(() => sender.send(testFrame('uint8', 8, 8)));
    assert.ok(sendError instanceof TransportError, 'no peer completed the handshake');
    for (const r of [receiver, plain]) {
      const error = await rejection(async () => {
        for await (const _ of r.stream({ idleTimeoutMs: 200 })) assert.fail('no data may get through');
      });
      assert.ok(error instanceof TransportError && error.message.includes(sender.endpoint), error.message);
      assert.equal(r.counters.received, 0);
    }

    const server = closer.track(
      await ControlServer.create({ bind: tcpEndpoint(), curve: serverSide, handlers: { ping: () => 'pong' } }),
    );
    const client = closer.track(await ControlClient.create({ connect: server.endpoint, curve: wrong, timeoutMs: 300 }));
    const error = await rejection(() => client.request('ping'));
    assert.ok(error instanceof TransportError);
    assert.match(error.message, /control request 'ping' to tcp:\/\/127\.0\.0\.1:\d+ got no reply within 300 ms/);
    assert.equal(server.counters.requests, 0);
  });
});
