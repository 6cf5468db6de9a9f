import assert from 'node:assert/strict';
import net from 'node:net';
import { DeviceProxy } from '../../../../tango/index.js';
import { TangoType, argTypeCode } from '../../../../tango/idl-types.js';
import { GiopFramer } from '../../../../tango/giop-framer.js';
import { encodeRequest, ReplyStatus, decodeReply } from '../../../../tango/giop-messages.js';
import { writeAny } from '../../../../tango/typecode.js';
import { DeviceServer } from '../../../../tango/server/index.js';
import { matrixDevice } from './fixtures/matrix-device.js';

/** Deterministic PRNG (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const KEY = new TextEncoder().encode('test/fuzz/1');
const ident = (w: Parameters<typeof writeAny>[0]) => w.ulong(0).ulong(1234);

/** Valid requests of the operations clients send most. */
const VALID: ((id: number) => Uint8Array)[] = [
  (id) =>
    encodeRequest(
      id,
      KEY,
      'read_attributes_5',
      (w) => (w.strings(['double_scalar', 'ushort_image']).ulong(0), ident(w)),
    ),
  (id) =>
    encodeRequest(id, KEY, 'command_inout_4', (w) => {
      w.string('DevVarLongStringArray');
      writeAny(w, argTypeCode(TangoType.DevVarLongStringArray), { lvalue: [1, 2], svalue: ['a'] });
      w.ulong(0);
      ident(w);
    }),
  (id) =>
    encodeRequest(id, KEY, 'write_attributes_4', (w) => {
      w.ulong(1).ulong(5).numbers('double', [1.5]).ulong(0).ulong(0).long(0).long(0).long(0).string('double_scalar');
      w.long(1).long(0).long(1).long(0).ulong(0);
      ident(w);
    }),
  (id) => encodeRequest(id, KEY, 'get_attribute_config_5', (w) => w.strings(['All attributes_3'])),
  (id) => encodeRequest(id, KEY, '_is_a', (w) => w.string('IDL:Tango/Device_5:1.0')),
  (id) => encodeRequest(id, KEY, 'info_3'),
];

/** A raw GIOP client: sends one message and waits for its reply or the connection to close. */
class RawClient {
  #socket: net.Socket | undefined;
  #waiting: { id: number; done: (what: string) => void } | undefined;
  constructor(readonly port: number) {}

  async #connect(): Promise<net.Socket> {
    if (this.#socket && !this.#socket.destroyed) return this.#socket;
    const s = net.connect(this.port, '127.0.0.1');
    await new Promise((r, j) => s.once('connect', r).once('error', j));
    const framer = new GiopFramer(
      (msg) => {
        const w = this.#waiting;
        if (!w || this.#socket !== s) return;
        if (msg[7] === 1 && decodeReply(msg).requestId === w.id) w.done(`status ${decodeReply(msg).status}`);
        else if (msg[7] === 6) w.done('MessageError');
      },
      () => {
        if (this.#socket === s) this.#waiting?.done('garbage from the server');
      },
    );
    s.on('data', (d: Buffer) => framer.push(d));
    s.on('error', () => undefined);
    s.on('close', () => {
      if (this.#socket === s) this.#waiting?.done('closed');
    });
    this.#socket = s;
    return s;
  }

  /** Sends `bytes` (then half-closes when `end`); resolves with what happened. */
  async send(id: number, bytes: Uint8Array, end: boolean): Promise<string> {
    const s = await this.#connect();
    const outcome = new Promise<string>((resolve) => {
      const timer = setTimeout(() => resolve('no answer'), 3000);
      this.#waiting = {
        id,
        done: (what) => {
          clearTimeout(timer);
          this.#waiting = undefined;
          resolve(what);
        },
      };
    });
    if (end) s.end(bytes);
    else s.write(bytes);
    const what = await outcome;
    if (what !== `status ${ReplyStatus.NoException}` && !what.startsWith('status')) {
      this.#socket?.destroy();
      this.#socket = undefined;
    }
    return what;
  }

  close(): void {
    this.#socket?.destroy();
  }
}

const CASES = 10_000;

describe('tango/server: fuzzing with malformed GIOP requests', function () {
  this.timeout(300000);
  let server: DeviceServer;

  before(async () => {
    server = await DeviceServer.create({
      server: 'fuzz',
      devices: [{ name: 'test/fuzz/1', definition: matrixDevice() }],
    });
  });
  after(async () => server?.stop());

  it(`survives ${CASES} malformed requests, never a crash or a hang, and answers the next valid one`, async () => {
    const rand = rng(20261201);
    const int = (n: number) => Math.floor(rand() * n);
    const client = new RawClient(server.port);
    const outcomes = new Map<string, number>();
    const memory0 = process.memoryUsage().heapUsed;
    try {
      for (let i = 0; i < CASES; i++) {
        const id = i + 1;
        const msg = Uint8Array.from(VALID[i % VALID.length]!(id));
        const view = new DataView(msg.buffer);
        const kind = int(6);
        let bytes = msg;
        let end = false;
        switch (kind) {
          case 0: {
            // truncated, size fixed up: the body ends early
            const n = 16 + int(msg.length - 16);
            view.setUint32(8, n - 12, true);
            bytes = msg.subarray(0, n);
            break;
          }
          case 1: // truncated, size as announced, then the client goes away
            bytes = msg.subarray(0, 1 + int(msg.length - 1));
            end = true;
            break;
          case 2: // body bytes garbled (the header, request id and response flags kept: a reply is due)
            for (let k = 1 + int(8); k > 0; k--) msg[17 + int(msg.length - 17)] = int(256);
            break;
          case 3: {
            // one byte of the GIOP header garbled: when it is no longer a whole Request (another
            // type, a size or byte order that does not match), no reply is due: the client leaves
            msg[int(12)] = int(256);
            const size = view.getUint32(8, (msg[6]! & 1) === 1);
            if (msg[7] !== 0 || (msg[6]! & 2) !== 0 || size !== msg.length - 12) end = true;
            break;
          }
          case 4: {
            // garbage after a valid header and request id
            const junk = Uint8Array.from({ length: int(300) }, () => int(256));
            bytes = new Uint8Array(16 + junk.length);
            bytes.set(msg.subarray(0, 16));
            bytes.set(junk, 16);
            new DataView(bytes.buffer).setUint32(8, bytes.length - 12, true);
            break;
          }
          default:
            // random bytes, no header at all
            bytes = Uint8Array.from({ length: 1 + int(64) }, () => int(256));
            end = true;
        }
        const what = await client.send(id, bytes, end);
        outcomes.set(what, (outcomes.get(what) ?? 0) + 1);
      }
    } finally {
      client.close();
    }
    assert.equal(
      outcomes.get('no answer') ?? 0,
      0,
      `every request got an answer or a close: ${JSON.stringify(Object.fromEntries(outcomes))}`,
    );
    const dev = await DeviceProxy.create(server.url('test/fuzz/1'));
    try {
      await dev.writeAttribute('long_scalar', 17);
      assert.equal((await dev.readAttribute('long_scalar')).value, 17);
    } finally {
      await dev.close();
    }
    assert.ok(server.counters.malformed > 1000, `${server.counters.malformed} counted as malformed`);
    const grown = (process.memoryUsage().heapUsed - memory0) / 1e6;
    console.log(`      outcomes: ${JSON.stringify(Object.fromEntries(outcomes))}; heap +${grown.toFixed(1)} MB`);
  });
});
