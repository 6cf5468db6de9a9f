import assert from 'node:assert/strict';
import { DTYPES, type Frame } from '../../../core/frame.js';
import { OptionError } from '../../../core/errors.js';
import { RECLAIM_BYTES, reclaimRuns } from '../../../core/reclaim.js';
import { tcpEndpoint, TransportError, uniqueIpcEndpoint, ZmqReceiver, ZmqSender } from '../../../transport/index.js';
import { Closer, rejection, sleep, testFrame } from './helpers.js';

describe('transport/zmq sender and receiver', () => {
  const closer = new Closer();
  afterEach(() => closer.closeAll());

  async function pushPull(
    senderOptions: Partial<Parameters<typeof ZmqSender.create>[0]> = {},
    receiverOptions: Partial<Parameters<typeof ZmqReceiver.create>[0]> = {},
  ) {
    const sender = closer.track(await ZmqSender.create({ mode: 'push', bind: tcpEndpoint(), ...senderOptions }));
    const receiver = closer.track(
      await ZmqReceiver.create({ mode: 'pull', connect: sender.endpoint, ...receiverOptions }),
    );
    return { sender, receiver };
  }

  it('binds 127.0.0.1 with a port chosen by ZeroMQ and reports the real endpoint', async () => {
    const { sender } = await pushPull();
    assert.match(sender.endpoint, /^tcp:\/\/127\.0\.0\.1:\d+$/);
  });

  it('needs exactly one of bind and connect', async () => {
    await assert.rejects(ZmqSender.create({ mode: 'push' }), OptionError);
    await assert.rejects(
      ZmqReceiver.create({ mode: 'pull', bind: tcpEndpoint(), connect: 'tcp://127.0.0.1:1' }),
      OptionError,
    );
  });

  it('round-trips every dtype with metadata over tcp and ends at the end marker', async () => {
    const { sender, receiver } = await pushPull();
    const sent = DTYPES.map((dtype, i) => testFrame(dtype, 16, 24, i, { angle: i * 0.1, label: `f${i}` }));
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
      assert.equal(frame.data.byteOffset % frame.data.BYTES_PER_ELEMENT, 0);
    });
    assert.deepEqual(receiver.counters, {
      received: 8,
      invalid: 0,
      bytes: sent.reduce((n, f) => n + f.data.byteLength, 0),
      superseded: 0,
      ends: 1,
      stray: 0,
    });
    assert.equal(sender.counters.sent, 8);
  });

  it('stream ids: strays of an ended stream are counted and dropped, never read as the next stream', async () => {
    const strays: string[] = [];
    const { sender, receiver } = await pushPull({}, { onStray: (reason) => strays.push(reason) });
    // stream A: 5 frames, its end, then 3 strays (a sender that went on after the end)
    for (let i = 0; i < 5; i++) await sender.send(testFrame('uint16', 4, 4, i), { stream: 'A' });
    await sender.end({ stream: 'A', frames: 5 });
    for (let i = 5; i < 8; i++) await sender.send(testFrame('uint16', 4, 4, i), { stream: 'A' });
    const readA: number[] = [];
    const a = receiver.stream({ id: 'A', idleTimeoutMs: 5000 });
    for (let next = await a.next(); ; next = await a.next()) {
      if (next.done) {
        assert.deepEqual(next.value, { end: true, stream: 'A', frames: 5 }, 'the end marker is returned');
        break;
      }
      readA.push(next.value.metadata.frameNumber);
    }
    assert.deepEqual(readA, [0, 1, 2, 3, 4]);
    // stream B, with a stale end marker of A and an untagged (Python Concert) frame in between
    await sender.end({ stream: 'A', frames: 8 });
    for (let i = 0; i < 3; i++) await sender.send(testFrame('uint16', 4, 4, 100 + i), { stream: 'B' });
    await sender.send(testFrame('uint16', 4, 4, 200));
    await sender.end({ stream: 'B', frames: 3 });
    const readB: number[] = [];
    for await (const frame of receiver.stream({ id: 'B', idleTimeoutMs: 5000 })) {
      readB.push(frame.metadata.frameNumber);
      if (frame.metadata.frameNumber < 200) assert.equal(frame.metadata.stream, 'B', 'the id is kept as metadata');
    }
    assert.deepEqual(readB, [100, 101, 102, 200], 'B holds only its own frames (and the untagged one)');
    assert.equal(receiver.counters.stray, 4, '3 stray frames and a stray end marker');
    assert.equal(strays.length, 4);
    assert.match(strays[0]!, /frame 5 of stream 'A' while reading stream 'B'/);
    assert.match(strays[3]!, /end marker of stream 'A'/);
  });

  it('without an id, a stream takes every message (the Python Concert way)', async () => {
    const { sender, receiver } = await pushPull();
    await sender.send(testFrame('uint8', 2, 2, 1), { stream: 'X' });
    await sender.send(testFrame('uint8', 2, 2, 2), { stream: 'Y' });
    await sender.end({ stream: 'Y' });
    const got: number[] = [];
    for await (const frame of receiver.stream({ idleTimeoutMs: 5000 })) got.push(frame.metadata.frameNumber);
    assert.deepEqual(got, [1, 2]);
    assert.equal(receiver.counters.stray, 0);
  });

  it('works the other way round over ipc (receiver binds, sender connects), stream after stream', async () => {
    const receiver = closer.track(await ZmqReceiver.create({ mode: 'pull', bind: uniqueIpcEndpoint() }));
    const sender = closer.track(await ZmqSender.create({ mode: 'push', connect: receiver.endpoint }));
    for (const run of [1, 2]) {
      const sending = (async () => {
        for (let i = 0; i < 5; i++) await sender.send(testFrame('uint16', 64, 64, i + run * 10));
        await sender.end();
      })();
      const numbers: number[] = [];
      for await (const frame of receiver.stream({ idleTimeoutMs: 5000 })) numbers.push(frame.metadata.frameNumber);
      await sending;
      assert.deepEqual(
        numbers,
        [0, 1, 2, 3, 4].map((i) => i + run * 10),
      );
    }
  });

  it('sends and receives without copying pixels (inproc shares the memory end to end)', async () => {
    const sender = closer.track(await ZmqSender.create({ mode: 'push', bind: `inproc://nocopy-${Date.now()}` }));
    const receiver = closer.track(await ZmqReceiver.create({ mode: 'pull', connect: sender.endpoint }));
    const frame = testFrame('uint16', 64, 64, 1);
    await sender.send(frame);
    await sender.end();
    const got: Frame[] = [];
    for await (const f of receiver.stream({ idleTimeoutMs: 2000 })) got.push(f);
    assert.equal(got[0]!.data[10], frame.data[10]);
    (frame.data as Uint16Array)[10] = 54321; // only possible to observe if nothing was copied
    assert.equal(got[0]!.data[10], 54321);
  });

  it('push is lossless and in order with a slow consumer, and the queue stays bounded', async () => {
    const small = { sendHighWaterMark: 2, sendBufferSize: 65536 };
    const { sender, receiver } = await pushPull(small, { receiveHighWaterMark: 2, receiveBufferSize: 65536 });
    const n = 120;
    let maxInFlight = 0;
    let consumed = 0;
    const sending = (async () => {
      for (let i = 0; i < n; i++) {
        await sender.send(testFrame('uint16', 128, 256, i)); // 64 KiB
        maxInFlight = Math.max(maxInFlight, i + 1 - consumed);
      }
      await sender.end();
    })();
    const numbers: number[] = [];
    for await (const frame of receiver.stream({ idleTimeoutMs: 5000 })) {
      numbers.push(frame.metadata.frameNumber);
      assert.equal((frame.data as Uint16Array)[5], testFrame('uint16', 1, 8, frame.metadata.frameNumber).data[5]);
      consumed++;
      if (consumed % 4 === 0) await sleep(2);
    }
    await sending;
    assert.deepEqual(
      numbers,
      Array.from({ length: n }, (_, i) => i),
    );
    // HWMs 2 + 2, one decoded frame, kernel buffers (a few 64 KiB frames): far below n
    assert.ok(maxInFlight <= 24, `in flight at most ${maxInFlight} frames`);
  });

  it('frees dropped frames as it receives (core/reclaim) and leaves the frames a consumer keeps intact', async () => {
    const { sender, receiver } = await pushPull();
    const n = 24; // 1 MiB each: three collections' worth
    const sending = (async () => {
      for (let i = 0; i < n; i++) await sender.send(testFrame('uint16', 512, 1024, i));
      await sender.end();
    })();
    const before = reclaimRuns();
    const kept: Frame[] = [];
    for await (const frame of receiver.stream({ idleTimeoutMs: 5000 }))
      if (frame.metadata.frameNumber % 3 === 0) kept.push(frame);
    await sending;
    assert.ok(reclaimRuns() - before >= Math.floor((n - 1) / (RECLAIM_BYTES >> 20)), `${reclaimRuns() - before} runs`);
    for (const frame of kept) {
      const expected = testFrame('uint16', 512, 1024, frame.metadata.frameNumber).data;
      assert.ok(
        Buffer.from(frame.data.buffer, frame.data.byteOffset, frame.data.byteLength).equals(
          Buffer.from(expected.buffer),
        ),
        `frame ${frame.metadata.frameNumber} intact`,
      );
    }
    assert.equal(kept.length, n / 3);
  });

  it('a push send with no consumer fails with a TransportError naming the endpoint', async () => {
    const sender = closer.track(await ZmqSender.create({ mode: 'push', bind: tcpEndpoint(), sendTimeoutMs: 200 }));
    const t0 = Date.now();
    const error = await rejection(() => sender.send(testFrame('uint8', 4, 4)));
    assert.ok(error instanceof TransportError, String(error));
    assert.ok(error.message.includes(sender.endpoint), error.message);
    assert.ok(Date.now() - t0 < 2000);
    assert.equal(sender.counters.sent, 0);
  });

  it('aborting a blocked send rejects with the AbortError and the frame is not counted', async () => {
    const sender = closer.track(await ZmqSender.create({ mode: 'push', bind: tcpEndpoint(), sendTimeoutMs: 5000 }));
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    const error = await rejection(() => sender.send(testFrame('uint8', 4, 4), { signal: controller.signal }));
    assert.equal(error.name, 'AbortError');
  });

  it('an idle stream fails with a TransportError instead of hanging', async () => {
    const receiver = closer.track(await ZmqReceiver.create({ mode: 'pull', bind: tcpEndpoint() }));
    const t0 = Date.now();
    const error = await rejection(async () => {
      for await (const _ of receiver.stream({ idleTimeoutMs: 150 })) assert.fail('no frames expected');
    });
    assert.ok(error instanceof TransportError);
    assert.match(error.message, /no message from tcp:\/\/127\.0\.0\.1:\d+ within 150 ms/);
    assert.ok(Date.now() - t0 < 1500);
    // the receiver is still usable afterwards
    const sender = closer.track(await ZmqSender.create({ mode: 'push', connect: receiver.endpoint }));
    await sender.send(testFrame('uint8', 2, 2, 3));
    await sender.end();
    const got: number[] = [];
    for await (const frame of receiver.stream({ idleTimeoutMs: 5000 })) got.push(frame.metadata.frameNumber);
    assert.deepEqual(got, [3]);
  });

  it('a stream stops on abort and on close', async () => {
    const receiver = closer.track(await ZmqReceiver.create({ mode: 'pull', bind: tcpEndpoint() }));
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    const aborted = await rejection(async () => {
      for await (const _ of receiver.stream({ signal: controller.signal })) assert.fail();
    });
    assert.equal(aborted.name, 'AbortError');
    setTimeout(() => receiver.close(), 50);
    const closed = await rejection(async () => {
      for await (const _ of receiver.stream()) assert.fail();
    });
    assert.ok(closed instanceof TransportError && /closed/.test(closed.message));
  });

  it('pub/sub is latest-wins: a slow viewer sees recent frames, drops are counted', async () => {
    const sender = closer.track(await ZmqSender.create({ mode: 'pub', bind: tcpEndpoint() }));
    const receiver = closer.track(await ZmqReceiver.create({ mode: 'sub', connect: sender.endpoint }));
    let stop = false;
    let sent = 0;
    const sending = (async () => {
      while (!stop) {
        await sender.send(testFrame('uint16', 256, 256, sent++, { timestamp: Date.now() })); // 128 KiB
        await new Promise(setImmediate);
      }
      await sender.end();
    })();
    const ages: number[] = [];
    const lags: number[] = []; // frames sent since the one shown: robust on a loaded machine
    for await (const frame of receiver.stream({ idleTimeoutMs: 5000 })) {
      ages.push(Date.now() - frame.metadata.timestamp);
      lags.push(sent - 1 - frame.metadata.frameNumber);
      await sleep(20); // a slow viewer
      if (ages.length === 15) stop = true;
    }
    await sending;
    const median = (values: number[]): number => [...values].sort((a, b) => a - b)[values.length >> 1]!;
    assert.ok(ages.length >= 15 && ages.length < sent, `${ages.length} shown of ${sent}`);
    assert.ok(median(lags) <= 3, `median lag ${median(lags)} frames (ages ${ages.join(', ')} ms)`);
    assert.ok(median(ages) < 500, `median frame age ${median(ages)} ms`);
    const lost = sender.counters.dropped + receiver.counters.superseded;
    assert.ok(lost > 0, 'drops are counted');
    assert.equal(receiver.counters.ends, 1);
  });
});
