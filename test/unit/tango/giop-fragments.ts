/**
 * Test helper: splits a GIOP 1.2 Request or Reply into a first message and fragments, as ORBs
 * send large messages.
 * @module
 */
import { CdrWriter } from '../../../tango/cdr.js';
import { MsgType } from '../../../tango/giop-messages.js';

/** Splits `msg` into a first message and GIOP 1.2 fragments of about `size` bytes. */
export function fragment(msg: Uint8Array, size: number): Uint8Array[] {
  const le = (msg[6]! & 1) === 1;
  const type = msg[7]! as MsgType;
  const id = msg.subarray(12, 16);
  const body = msg.subarray(12);
  const out: Uint8Array[] = [];
  let at = 0;
  while (at < body.length) {
    const first = at === 0;
    let n = Math.min(size, body.length - at);
    if (at + n < body.length) n -= ((first ? 12 : 16) + n) % 8; // non-final fragments: multiple of 8
    const last = at + n >= body.length;
    const w = new CdrWriter(le);
    w.raw(
      new Uint8Array([0x47, 0x49, 0x4f, 0x50, 1, 2, (le ? 1 : 0) | (last ? 0 : 2), first ? type : MsgType.Fragment]),
    );
    w.ulong((first ? 0 : 4) + n);
    if (!first) w.raw(id);
    w.raw(body.subarray(at, at + n));
    out.push(Uint8Array.from(w.bytes()));
    at += n;
  }
  return out;
}
