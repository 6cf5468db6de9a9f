import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { DTYPES, makeFrame, type Frame } from '../../../core/frame.js';
import { OptionError } from '../../../core/errors.js';
import {
  createReceiver,
  createSender,
  shmAvailable,
  ShmReceiver,
  ShmSender,
  TransportError,
  uniqueShmEndpoint,
  ZmqReceiver,
  ZmqSender,
  tcpEndpoint,
} from '../../../transport/index.js';
import { Closer, rejection, sleep, testFrame } from './helpers.js';

const CHILD = fileURLToPath(new URL('./shm-sender-child.ts', import.meta.url));

/** A sender in another process; `go()` makes it send one stream. */
function childSender(endpoint: string, mode: 'push' | 'pub', count: number, side: number) {
  const child: ChildProcess = spawn(
    process.execPath,
    ['--import', 'tsx', CHILD, endpoint, mode, String(count), String(side)],
    {
      stdio: ['pipe', 'pipe', 'inherit'],
    },
  );
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    child,
    ready: lines.next().then((l) => assert.equal(l.value, 'ready')),
    go: () => child.stdin!.write('go\n'),
    next: async () => (await lines.next()).value as string,
    stop: async () => {
      child.stdin!.end();
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
    kill: async () => {
      child.kill('SIGKILL');
      await exited;
    },
  };
}

const rings = () => readdirSync('/dev/shm').filter((f) => f.startsWith(`concert-${process.pid}-`));

describe('transport/shm sender and receiver', function () {
  this.timeout(30_000);
  const closer = new Closer();
  afterEach(() => closer.closeAll());
  before(function () {
    if (!shmAvailable()) {
      console.log('      skipping: the optional package shm-typed-array is not installed');
      this.skip();
    }
  });

  async function pair(mode: 'push' | 'pub' = 'push', options: { slots?: number; sendTimeoutMs?: number } = {}) {
    const endpoint = uniqueShmEndpoint('test');
    const sender = closer.track(await ShmSender.create({ mode, bind: endpoint, ...options }));
    const receiver = closer.track(
      await ShmReceiver.create({ mode: mode === 'push' ? 'pull' : 'sub', connect: endpoint }),
    );
    await receiver.waitConnected();
    return { sender, receiver };
  }

  it('round-trips every dtype with metadata and ends at the end marker, stream after stream', async () => {
    const { sender, receiver } = await pair();
    for (const run of [0, 1]) {
      const sent = DTYPES.map((dtype, i) => testFrame(dtype, 16, 24, i + run, { angle: i * 0.1, label: `f${i}` }));
      const sending = (async () => {
        for (const frame of sent) await sender.send(frame);
        await sender.end();
      })();
      const got: Frame[] = [];
      for await (const frame of receiver.stream({ idleTimeoutMs: 5000 })) got.push(frame);
      await sending;
      assert.equal(got.length, sent.length);
      got.forEach((frame, i) => {
        assert.equal(frame.dtype, sent[i]!.dtype);
        assert.deepEqual(frame.shape, [16, 24]);
        assert.deepEqual(Array.from(frame.data as ArrayLike<number>), Array.from(sent[i]!.data as ArrayLike<number>));
        assert.deepEqual(frame.metadata, sent[i]!.metadata);
      });
    }
    assert.equal(receiver.counters.received, 16);
    assert.equal(receiver.counters.ends, 2);
    assert.equal(sender.counters.sent, 16);
  });

  it('moves frames between processes losslessly and in order, copied or borrowed from the ring', async () => {
    const endpoint = uniqueShmEndpoint('test');
    const child = childSender(endpoint, 'push', 40, 1024);
    try {
      await child.ready;
      const receiver = closer.track(await ShmReceiver.create({ mode: 'pull', connect: endpoint }));
      for (const borrow of [false, true]) {
        child.go();
        const kept: Frame[] = [];
        let n = 0;
        for await (const frame of receiver.stream({ idleTimeoutMs: 10_000, borrow })) {
          assert.equal(frame.metadata.frameNumber, n);
          const data = frame.data as Uint16Array;
          assert.equal(data.length, 1024 * 1024);
          assert.ok(
            data[0] === (n % 4) + 1 && data[data.length - 1] === (n % 4) + 1,
            `frame ${n} holds its own pixels`,
          );
          if (!borrow && n < 8) kept.push(frame);
          n++;
        }
        assert.equal(n, 40);
        assert.equal(await child.next(), 'sent 40 dropped 0');
        // copies stay what they were after the ring slots were reused
        kept.forEach((frame, i) => assert.equal((frame.data as Uint16Array)[12345], (i % 4) + 1));
      }
    } finally {
      await child.stop();
    }
  });

  it('push holds the sender back while the receiver is slow: never more frames in flight than slots', async () => {
    const { sender, receiver } = await pair('push', { slots: 3 });
    let sent = 0;
    const sending = (async () => {
      for (let i = 0; i < 12; i++) {
        await sender.send(testFrame('uint16', 64, 64, i));
        sent++;
      }
      await sender.end();
    })();
    const seen: number[] = [];
    for await (const frame of receiver.stream({ idleTimeoutMs: 5000 })) {
      assert.ok(sent - seen.length <= 3, `${sent - seen.length} frames in flight with 3 slots`);
      seen.push(frame.metadata.frameNumber);
      await sleep(10);
    }
    await sending;
    assert.deepEqual(
      seen,
      Array.from({ length: 12 }, (_, i) => i),
    );
  });

  it('a push send without a receiver fails with a TransportError naming the endpoint and why', async () => {
    const endpoint = uniqueShmEndpoint('test');
    const sender = closer.track(await ShmSender.create({ mode: 'push', bind: endpoint, sendTimeoutMs: 200 }));
    const error = await rejection(() => sender.send(testFrame('uint8', 4, 4)));
    assert.ok(error instanceof TransportError);
    assert.match(error.message, new RegExp(`send to ${endpoint} timed out after 200 ms: no receiver is connected`));
    assert.equal(sender.counters.sent, 0);
  });

  it('aborting a waiting send rejects with the AbortError and sends nothing', async () => {
    const endpoint = uniqueShmEndpoint('test');
    const sender = closer.track(await ShmSender.create({ mode: 'push', bind: endpoint }));
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    const error = await rejection(() => sender.send(testFrame('uint8', 4, 4), { signal: controller.signal }));
    assert.equal(error.name, 'AbortError');
    assert.equal(sender.counters.sent, 0);
  });

  it('pub is latest-wins: a slow viewer gets recent frames, the sender never waits, drops are counted', async () => {
    const { sender, receiver } = await pair('pub');
    let i = 0;
    let stop = false;
    const sending = (async () => {
      while (!stop) {
        await sender.send(testFrame('uint16', 256, 256, i++));
        await new Promise(setImmediate);
      }
      await sender.end();
    })();
    const seen: number[] = [];
    for await (const frame of receiver.stream({ idleTimeoutMs: 5000 })) {
      seen.push(frame.metadata.frameNumber);
      assert.ok(i - frame.metadata.frameNumber <= 3, `frame ${frame.metadata.frameNumber} shown while ${i} was sent`);
      await sleep(20);
      if (seen.length === 10) stop = true;
    }
    await sending;
    assert.ok(seen.length >= 10);
    assert.ok(
      sender.counters.dropped + receiver.counters.superseded > 0,
      'frames the viewer had no time for are counted',
    );
    assert.deepEqual(
      [...seen].sort((a, b) => a - b),
      seen,
      'in order',
    );
  });

  it('refuses a second receiver with a message that says why', async () => {
    const { sender } = await pair();
    const second = closer.track(await ShmReceiver.create({ mode: 'pull', connect: sender.endpoint }));
    await assert.rejects(second.waitConnected(), /already has a receiver: a shared-memory stream has one consumer/);
    await assert.rejects(async () => {
      for await (const _ of second.stream({ idleTimeoutMs: 1000 }));
    }, TransportError);
  });

  it('a receiver of the wrong mode is told so', async () => {
    const endpoint = uniqueShmEndpoint('test');
    closer.track(await ShmSender.create({ mode: 'pub', bind: endpoint }));
    const receiver = closer.track(await ShmReceiver.create({ mode: 'pull', connect: endpoint }));
    await assert.rejects(receiver.waitConnected(), /the sender is 'pub' but this receiver is 'pull'/);
  });

  it('fails a stream whose sender dies in the middle, and takes the next stream from a restarted sender', async () => {
    const endpoint = uniqueShmEndpoint('test');
    const first = childSender(endpoint, 'push', 100_000, 256);
    await first.ready;
    const receiver = closer.track(await ShmReceiver.create({ mode: 'pull', connect: endpoint }));
    first.go();
    let n = 0;
    const error = await rejection(async () => {
      for await (const _ of receiver.stream({ idleTimeoutMs: 10_000 })) if (++n === 20) await first.kill();
    });
    assert.ok(error instanceof TransportError);
    assert.match(error.message, /the sender went away during a stream, after \d+ frame\(s\) of it/);
    const second = childSender(endpoint, 'push', 5, 256); // binds over the dead sender's socket
    try {
      await second.ready;
      second.go();
      const numbers: number[] = [];
      for await (const frame of receiver.stream({ idleTimeoutMs: 10_000 })) numbers.push(frame.metadata.frameNumber);
      assert.deepEqual(numbers, [0, 1, 2, 3, 4]);
    } finally {
      await second.stop();
    }
  });

  it('grows the ring for a larger frame and leaves no ring in /dev/shm once closed', async () => {
    const { sender, receiver } = await pair('push', { slots: 2 });
    const frames = [testFrame('uint8', 8, 8, 1), testFrame('float64', 300, 300, 2), testFrame('uint8', 8, 8, 3)];
    const sending = (async () => {
      for (const f of frames) await sender.send(f);
      await sender.end();
    })();
    const got: Frame[] = [];
    for await (const frame of receiver.stream({ idleTimeoutMs: 5000 })) got.push(frame);
    await sending;
    assert.deepEqual(
      got.map((f) => [f.dtype, f.data.length, f.data[7]]),
      frames.map((f) => [f.dtype, f.data.length, f.data[7]]),
    );
    // the names go as soon as the receiver has mapped the rings (the memory stays while mapped)
    for (const deadline = Date.now() + 2000; rings().length > 0 && Date.now() < deadline;) await sleep(10);
    assert.deepEqual(rings(), []);
  });

  it('checks its options and names what is wrong', async () => {
    await assert.rejects(ShmSender.create({ mode: 'push', bind: 'shm://host/x' }), /no host part/);
    await assert.rejects(
      ShmSender.create({ mode: 'push', connect: 'shm://x' } as never),
      (e: unknown) => e instanceof OptionError && /the sender binds and the receiver connects/.test(e.message),
    );
    await assert.rejects(ShmReceiver.create({ mode: 'pull', bind: 'shm://x' } as never), OptionError);
    await assert.rejects(
      ShmSender.create({ mode: 'push', bind: 'shm://ok', slots: 1 }),
      /slots must be an integer ≥ 2/,
    );
    const receiver = closer.track(await ShmReceiver.create({ mode: 'pull', connect: uniqueShmEndpoint('nobody') }));
    await assert.rejects(receiver.waitConnected(100), /no shared-memory sender .* on this host within 100 ms/);
    const endpoint = uniqueShmEndpoint('test');
    closer.track(await ShmSender.create({ mode: 'push', bind: endpoint }));
    await assert.rejects(ShmSender.create({ mode: 'push', bind: endpoint }), /another process has bound it/);
  });

  it('createSender and createReceiver pick shared memory for shm:// and ZeroMQ otherwise', async () => {
    const endpoint = uniqueShmEndpoint('test');
    const shm = closer.track(await createSender({ mode: 'push', bind: endpoint, sendHighWaterMark: 4 }));
    assert.ok(shm instanceof ShmSender);
    const shmIn = closer.track(await createReceiver({ mode: 'pull', connect: endpoint }));
    assert.ok(shmIn instanceof ShmReceiver);
    const zmq = closer.track(await createSender({ mode: 'push', bind: tcpEndpoint() }));
    assert.ok(zmq instanceof ZmqSender);
    const zmqIn = closer.track(await createReceiver({ mode: 'pull', connect: zmq.endpoint }));
    assert.ok(zmqIn instanceof ZmqReceiver);
    await assert.rejects(createSender({ mode: 'push', connect: endpoint }), /binds \(the receiver connects\)/);
    const frame = makeFrame(new Uint16Array(4).fill(9), [2, 2]);
    const sending = (async () => {
      await shm.send(frame);
      await shm.end();
    })();
    const got: Frame[] = [];
    for await (const f of shmIn.stream({ idleTimeoutMs: 5000 })) got.push(f);
    await sending;
    assert.deepEqual(Array.from(got[0]!.data as Uint16Array), [9, 9, 9, 9]);
  });
  it('tells streams apart: frames and end markers of another stream are strays, dropped and counted', async () => {
    const strays: string[] = [];
    const endpoint = uniqueShmEndpoint('test');
    const sender = closer.track(await ShmSender.create({ mode: 'push', bind: endpoint }));
    const receiver = closer.track(
      await ShmReceiver.create({ mode: 'pull', connect: endpoint, onStray: (reason) => strays.push(reason) }),
    );
    await receiver.waitConnected();
    // stream A was cancelled: 2 of its frames and its end are still on the way when B starts
    const sending = (async () => {
      for (let i = 0; i < 2; i++) await sender.send(testFrame('uint16', 4, 4, 100 + i), { stream: 'A' });
      await sender.end({ stream: 'A', frames: 2 });
      for (let i = 0; i < 3; i++) await sender.send(testFrame('uint16', 4, 4, i), { stream: 'B' });
      await sender.end({ stream: 'B', frames: 3 });
    })();
    const got: number[] = [];
    const frames = receiver.stream({ idleTimeoutMs: 5000, id: 'B' });
    let next = await frames.next();
    for (; !next.done; next = await frames.next()) got.push(next.value.metadata.frameNumber);
    await sending;
    assert.deepEqual(got, [0, 1, 2], "only stream B's frames");
    assert.deepEqual(next.value, { end: true, stream: 'B', frames: 3 }, "B's end marker, with its count");
    assert.equal(receiver.counters.stray, 3);
    assert.deepEqual(strays, [
      "frame 100 of stream 'A' while reading stream 'B'",
      "frame 101 of stream 'A' while reading stream 'B'",
      "end marker of stream 'A' while reading stream 'B'",
    ]);
    // the strays' slots were freed: the ring (8 slots) still takes a long stream
    const more = (async () => {
      for (let i = 0; i < 20; i++) await sender.send(testFrame('uint16', 4, 4, i), { stream: 'C' });
      await sender.end({ stream: 'C' });
    })();
    let n = 0;
    for await (const _ of receiver.stream({ idleTimeoutMs: 5000, id: 'C' })) n++;
    await more;
    assert.equal(n, 20);
  });
});
