/**
 * Malformed messages for fuzzing the servers: data messages in (almost) the Concert wire format
 * and control requests that are broken in every way a peer could break them. Deterministic.
 * @module
 */
import { makeFrame } from '../../core/index.js';
import { encodeEnd, encodeFrame } from '../../transport/zmq/index.js';

/** Deterministic PRNG (mulberry32). */
export function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `count` bad data messages of many kinds (cycling through them); every one must be rejected. */
export function malformedFrames(count: number, seed = 42): Buffer[][] {
  const random = prng(seed);
  const int = (n: number): number => Math.floor(random() * n);
  const bytes = (n: number): Buffer => Buffer.from(Array.from({ length: n }, () => int(256)));
  const [header, payload] = encodeFrame(makeFrame(new Uint16Array(64).fill(7), [8, 8], { frameNumber: 1 }));
  const json = (value: unknown): Buffer => Buffer.from(JSON.stringify(value));
  const kinds: (() => Buffer[])[] = [
    () => [bytes(1 + int(64)), payload], // garbage header
    () => [header.subarray(0, int(header.length - 1)), payload], // truncated JSON
    () => [header, payload.subarray(0, int(payload.length))], // truncated payload
    () => [header, Buffer.concat([payload, bytes(1 + int(8))])], // payload too long
    () => [json({ dtype: ['complex64', 'uint64', 'object', 'S10', '', 7][int(6)], shape: [8, 8] }), payload],
    () => [json({ dtype: 'uint16', shape: [int(1e9) + 1e6, int(1e9) + 1e6] }), payload], // huge shape
    () => [
      json({ dtype: 'uint16', shape: [[8], [8, 8, 1], [-8, -8], [8.5, 8], ['8', '8'], null, 'x'][int(7)] }),
      payload,
    ],
    () => [header, payload, bytes(int(4))], // extra part
    () => [header, payload, header, payload], // more parts
    () => [json([1, 2, 3][int(3)] ?? null), payload], // not an object
    () => [header], // one part, not an end marker
    () => [encodeEnd()[0], payload], // end marker with a payload
    () => [json({ end: [false, 1, 'true', null, 0][int(5)] })], // not {"end": true}
    () => [
      json({
        dtype: 'uint16',
        shape: [
          [0, 0],
          [0, 8],
          [8, 0],
        ][int(3)],
      }),
      Buffer.alloc(0),
    ], // empty frames
    () => [json({ dtype: 'uint16', shape: [8, 8], stream: [42, '', 'x'.repeat(200), {}, []][int(5)] }), payload],
    () => [json({ end: true, frames: [-1, 1.5, 'x', 1e300][int(4)] })], // bad frame count
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

/** Values of every JSON type, odd ones included, for parameters. */
const ODD = [
  null,
  true,
  false,
  0,
  -1,
  1.5,
  1e308,
  -1e308,
  '',
  'x',
  '../..',
  '/etc/passwd',
  '\u0000',
  [],
  [1, 2],
  {},
  { a: 1 },
];

/**
 * `count` malformed control requests (as single ZeroMQ parts for a DEALER) for a server whose
 * methods take the named parameters: broken JSON, wrong envelopes, wrong request shapes, unknown
 * methods, and known methods with parameters of the wrong type. `params[method]` lists the keys
 * a method reads; methods without parameters are never called (that would be a valid request).
 */
export function malformedControl(count: number, params: Record<string, readonly string[]>, seed = 7): Buffer[][] {
  const random = prng(seed);
  const int = (n: number): number => Math.floor(random() * n);
  const pick = <T>(list: readonly T[]): T => list[int(list.length)]!;
  const bytes = (n: number): Buffer => Buffer.from(Array.from({ length: n }, () => int(256)));
  const json = (value: unknown): Buffer => Buffer.from(JSON.stringify(value));
  const methods = Object.keys(params).filter((m) => params[m]!.length > 0);
  const wrong = (key: string): unknown => {
    // a value of another type than the key takes (names, endpoints: strings; counts: numbers)
    const stringy = [
      'name',
      'endpoint',
      'mode',
      'id',
      'text',
      'at',
      'root',
      'stream',
      'dsetname',
      'directory',
      'format',
    ];
    const odd = ODD.filter((v) => (stringy.includes(key) ? typeof v !== 'string' : typeof v !== 'number'));
    return pick(odd);
  };
  const kinds: (() => Buffer[])[] = [
    () => [bytes(1 + int(80))], // garbage
    () => [json({ id: 1, method: 'status' }).subarray(0, 1 + int(20))], // truncated
    () => [json(pick([null, 1, 'x', [1], true]))], // not an object
    () => [json({ method: 'status' })], // no id
    () => [json({ id: pick([null, {}, [], true]), method: 'status' })], // bad id
    () => [json({ id: 1, method: pick([42, null, {}, []]) })], // bad method
    () => [json({ id: 1, method: pick(['nope', '__proto__', 'constructor', 'toString', 'x'.repeat(1000)]) })],
    () => [json({ id: 1, method: 'status' }), Buffer.alloc(0), json({})], // extra parts
    () => [Buffer.alloc(0)], // empty
    () => [json({ id: 1, method: 'status', deadline: 1 })], // long expired
    () => {
      const method = pick(methods);
      const p: Record<string, unknown> = {};
      for (const key of params[method]!) p[key] = wrong(key);
      return [json({ id: int(1e6), method, params: p })];
    },
    () => [
      json({
        id: int(1e6),
        method: pick(methods),
        params: pick(ODD.filter((v) => typeof v !== 'object' || v === null)),
      }),
    ],
    () => [Buffer.from(`{"id":1,"method":"status","params":${'['.repeat(5000)}${']'.repeat(5000)}}`)], // deep nesting
  ];
  return Array.from({ length: count }, (_, i) => kinds[i % kinds.length]!());
}
