/**
 * Malformed GIOP replies for fuzzing the Tango client (the unit test and bench/tango-fuzz.ts): valid
 * read_attributes_5, command_inout and DevFailed replies, truncated, garbled or replaced by garbage.
 * @module
 */
import type { CdrWriter } from '../../tango/cdr.js';
import { ReplyStatus, encodeReply } from '../../tango/giop.js';
import { argTypeCode } from '../../tango/idl-types.js';
import { writeAny } from '../../tango/typecode.js';
import type { FakeAnswer, FakeRequest } from '../unit/tango/fake-giop-server.js';

/** Deterministic PRNG (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function attribute(
  w: CdrWriter,
  name: string,
  disc: number,
  fill: (w: CdrWriter) => void,
  format: number,
  dataType: number,
  dims: [number, number, number, number],
  errors = 0,
): void {
  w.ulong(disc);
  fill(w);
  w.ulong(0).ulong(format).long(dataType).long(1700000000).long(5).long(0).string(name);
  for (const d of dims) w.long(d);
  w.ulong(errors);
  for (let i = 0; i < errors; i++) w.string('API_Reason').ulong(1).string('description').string('origin');
}

/** A valid read_attributes_5 reply with scalars, a spectrum, an image, strings, a state and an error. */
export function attributesReply(req: FakeRequest, le: boolean): Uint8Array {
  return encodeReply(
    req.id,
    ReplyStatus.NoException,
    (w) => {
      w.ulong(6);
      attribute(w, 'double_scalar', 5, (x) => x.numbers('double', [1.5, 2.5]), 0, 5, [1, 0, 1, 0]);
      attribute(
        w,
        'ushort_image_ro',
        7,
        (x) =>
          x.numbers(
            'ushort',
            Uint16Array.from({ length: 12 }, (_, i) => i),
          ),
        2,
        6,
        [4, 3, 0, 0],
      );
      attribute(w, 'string_spectrum', 10, (x) => x.strings(['a', 'bb', 'ccc']), 1, 8, [3, 0, 0, 0]);
      attribute(w, 'State', 12, (x) => x.ulong(10), 0, 19, [1, 0, 0, 0]);
      attribute(w, 'long64_spectrum_ro', 3, (x) => x.numbers('longlong', [1n, -2n]), 1, 23, [2, 0, 0, 0]);
      attribute(w, 'broken', 14, (x) => x.boolean(true), 0, 3, [0, 0, 0, 0], 2);
    },
    le,
  );
}

export function commandReply(req: FakeRequest, le: boolean): Uint8Array {
  return encodeReply(
    req.id,
    ReplyStatus.NoException,
    (w) => writeAny(w, argTypeCode(17), { lvalue: [1, 2], svalue: ['x', 'y'] }),
    le,
  );
}

export function devFailedReply(req: FakeRequest, le: boolean): Uint8Array {
  return encodeReply(
    req.id,
    ReplyStatus.UserException,
    (w) => {
      w.string('IDL:Tango/DevFailed:1.0').ulong(2);
      w.string('API_AttrNotFound').ulong(1).string('not found').string('here');
      w.string('API_Other').ulong(2).string('more').string('there');
    },
    le,
  );
}

/**
 * Case `i` of the fuzz: one of five mutations (truncated with the size fixed up; truncated and the
 * connection closed; body bytes garbled; any byte garbled; garbage after a valid header) of a
 * reply to `req`. Call `i % 3 === 0` with readAttributes, otherwise with command (as the makers cycle).
 */
export function malformedReply(i: number, rand: () => number, req: FakeRequest): FakeAnswer {
  const int = (n: number): number => Math.floor(rand() * n);
  const makers = [attributesReply, commandReply, devFailedReply];
  const kind = int(5);
  const msg = Uint8Array.from(makers[i % 3]!(req, rand() < 0.5));
  const view = new DataView(msg.buffer);
  switch (kind) {
    case 0: {
      // truncated, size field fixed up
      const n = 12 + int(msg.length - 12);
      view.setUint32(8, n - 12, msg[6] === 1);
      return { chunks: [msg.subarray(0, n)] };
    }
    case 1: // truncated, original size, connection closed
      return { chunks: [msg.subarray(0, int(msg.length))], close: true };
    case 2: {
      // a few bytes of the body garbled
      for (let k = 1 + int(8); k > 0; k--) msg[16 + int(msg.length - 16)] = int(256);
      return { chunks: [msg] };
    }
    case 3: {
      // one byte anywhere (header included) garbled
      msg[int(msg.length)] = int(256);
      return { chunks: [msg] };
    }
    default: {
      // random garbage after a valid header
      const junk = Uint8Array.from({ length: int(200) }, () => int(256));
      const head = msg.subarray(0, 16);
      const out = new Uint8Array(16 + junk.length);
      out.set(head);
      out.set(junk, 16);
      new DataView(out.buffer).setUint32(8, out.length - 12, out[6] === 1);
      return { chunks: [out] };
    }
  }
}
