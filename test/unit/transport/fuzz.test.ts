import assert from 'node:assert/strict';
import { Push } from 'zeromq';
import { encodeEnd, encodeFrame, tcpEndpoint, ZmqReceiver } from '../../../transport/index.js';
import { Closer, testFrame } from './helpers.js';

/** Deterministic PRNG (mulberry32). */
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** ~300 bad messages of many kinds; every one must be rejected. */
function malformed(count: number): Buffer[][] {
  const random = prng(42);
  const int = (n: number): number => Math.floor(random() * n);
  const bytes = (n: number): Buffer => Buffer.from(Array.from({ length: n }, () => int(256)));
  const [header, payload] = encodeFrame(testFrame('uint16', 8, 8));
  const json = (value: unknown): Buffer => Buffer.from(JSON.stringify(value));
  const kinds: (() => Buffer[])[] = [
    () => [bytes(1 + int(64)), payload], // garbage header
    () => [header.subarray(0, int(header.length - 1)), payload], // truncated JSON
    () => [header, payload.subarray(0, int(payload.length))], // truncated payload
    () => [header, Buffer.concat([payload, bytes(1 + int(8))])], // payload too long
    () => [json({ dtype: ['complex64', 'uint64', 'object', 'S10', '', 7][int(6)], shape: [8, 8] }), payload],
    () => [json({ dtype: 'uint16', shape: [int(1e9) + 1e6, int(1e9) + 1e6] }), payload], // huge shape
    () => [
      json({ dtype: 'uint16', shape: [[8, 8], [8], [8, 8, 1], [-8, -8], [8.5, 8], ['8', '8'], null, 'x'][int(8)] }),
      payload,
    ],
    () => [header, payload, bytes(int(4))], // extra part
    () => [header, payload, header, payload], // more parts
    () => [json([1, 2, 3][int(3)] ?? null), payload], // not an object
    () => [header], // one part, not an end marker
    () => [encodeEnd()[0], payload], // end marker with a payload
    () => [Buffer.alloc(0), Buffer.alloc(0)],
    () => [json({ shape: [8, 8] }), payload], // no dtype
    () => [json({ dtype: 'uint16', shape: [8, 8], version: 1000 }), payload],
    () => [Buffer.alloc(70 * 1024, 0x20), payload], // oversized header
    () => {
      const h = Buffer.from(header);
      h[0] = int(128) | 0x80;
      return [h, payload];
    }, // garbled first byte (invalid UTF-8)
  ];
  return Array.from({ length: count }, (_, i) => kinds[i % kinds.length]!());
}

describe('transport/zmq fuzzing', () => {
  const closer = new Closer();
  afterEach(() => closer.closeAll());

  it('counts and drops ~300 malformed messages and still receives the next valid frame', async () => {
    const reasons: string[] = [];
    const receiver = closer.track(
      await ZmqReceiver.create({ mode: 'pull', bind: tcpEndpoint(), onInvalid: (reason) => reasons.push(reason) }),
    );
    const raw = closer.track(new Push({ linger: 0 }));
    raw.connect(receiver.endpoint);
    const bad = malformed(306);
    for (const parts of bad) await raw.send(parts);
    await raw.send(encodeFrame(testFrame('float32', 4, 4, 77)));
    await raw.send(encodeEnd());
    const got: number[] = [];
    for await (const frame of receiver.stream({ idleTimeoutMs: 5000 })) got.push(frame.metadata.frameNumber);
    assert.deepEqual(got, [77]);
    assert.equal(
      receiver.counters.invalid,
      bad.length,
      `reasons: ${new Set(reasons.map((r) => r.split(' ').slice(0, 3).join(' ')))}`,
    );
    assert.equal(receiver.counters.received, 1);
    assert.equal(reasons.length, bad.length);
  });
});
