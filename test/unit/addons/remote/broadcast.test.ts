import assert from 'node:assert/strict';
import { makeFrame, sleep, type Frame } from '../../../../core/index.js';
import { Broadcaster, parseTarget } from '../../../../addons/remote/index.js';
import { freePort, tcpEndpoint, ZmqReceiver, ZmqSender } from '../../../../transport/zmq/index.js';

describe('addons/remote/broadcast', function () {
  this.timeout(20_000);
  const closers: Array<() => unknown> = [];
  afterEach(async () => {
    for (const c of closers.splice(0).reverse()) await c();
  });

  it('parses destinations', () => {
    assert.deepEqual(parseTarget('pub:tcp://127.0.0.1:9'), { mode: 'pub', endpoint: 'tcp://127.0.0.1:9' });
    assert.deepEqual(parseTarget('tcp://127.0.0.1:9'), { mode: 'push', endpoint: 'tcp://127.0.0.1:9' });
    assert.throws(() => parseTarget('9001'), /must look like push:tcp:/);
  });

  it('forwards one stream to a lossless and a latest-wins destination, stream after stream', async () => {
    const source = await ZmqSender.create({ mode: 'push', bind: tcpEndpoint(await freePort()) });
    closers.push(() => source.close());
    const [a, b] = [tcpEndpoint(await freePort()), tcpEndpoint(await freePort())];
    const broadcaster = await Broadcaster.create({
      from: source.endpoint,
      to: [
        { endpoint: a, mode: 'push' },
        { endpoint: b, mode: 'pub' },
      ],
    });
    closers.push(() => broadcaster.stop());
    const lossless = await ZmqReceiver.create({ mode: 'pull', connect: a });
    const latest = await ZmqReceiver.create({ mode: 'sub', connect: b });
    closers.push(
      () => lossless.close(),
      () => latest.close(),
    );
    await sleep(200); // let the subscriber connect

    for (let stream = 0; stream < 2; stream++) {
      const got: number[] = [];
      const seenLive: number[] = [];
      const reading = (async () => {
        for await (const f of lossless.stream({ idleTimeoutMs: 5000 })) got.push(f.metadata.frameNumber);
      })();
      const viewing = (async () => {
        try {
          for await (const f of latest.stream({ idleTimeoutMs: 1500 })) {
            seenLive.push(f.metadata.frameNumber);
            await sleep(20);
          }
        } catch {
          // the end marker may be dropped on a latest-wins path: the idle timeout ends it
        }
      })();
      for (let i = 0; i < 50; i++)
        await source.send(makeFrame(new Uint16Array(64).fill(i), [8, 8], { frameNumber: i }) as Frame);
      await source.end();
      await reading;
      await viewing;
      assert.deepEqual(got, [...Array(50).keys()], `stream ${stream}: every frame on the lossless path, in order`);
      assert.ok(
        seenLive.length > 0 && seenLive.length < 50,
        `stream ${stream}: the slow live path saw some frames (${seenLive.length})`,
      );
    }
    assert.equal(broadcaster.streams, 2);
  });
});
