import assert from 'node:assert/strict';
import { CdrReader } from '../../../tango/cdr.js';
import { GiopFramer } from '../../../tango/giop-framer.js';
import { MsgType, ReplyStatus, decodeReply, encodeReply, encodeRequest } from '../../../tango/giop-messages.js';
import { fragment } from './giop-fragments.js';

/** A framer that collects what it delivers. */
function collector(maxMessageSize?: number) {
  const messages: Uint8Array[] = [];
  const errors: string[] = [];
  const framer = new GiopFramer(
    (m) => messages.push(Uint8Array.from(m)),
    (e) => errors.push(e),
    maxMessageSize ? { maxMessageSize } : {},
  );
  return { framer, messages, errors };
}

/** Feeds `bytes` the way a socket with `onread` does: each read fills what nextBuffer() offers. */
function feedLikeSocket(framer: GiopFramer, bytes: Uint8Array, chunk: number): number {
  let at = 0;
  let direct = 0;
  while (at < bytes.length) {
    const buf = framer.nextBuffer();
    const n = Math.min(buf.length, chunk, bytes.length - at);
    buf.set(bytes.subarray(at, at + n));
    if (buf.length < 32 * 1024) direct += n;
    framer.consumed(n, buf);
    at += n;
  }
  return direct;
}

const doubles = (n: number) => Float64Array.from({ length: n }, (_, i) => i * 0.5);
const imageReply = (id: number, values: Float64Array, le = true) =>
  encodeReply(id, ReplyStatus.NoException, (w) => w.numbers('double', values), le);

describe('tango/giop-framer', () => {
  it('cuts a stream into messages whatever the chunking', () => {
    const msgs = [1, 2, 3].map((id) => encodeReply(id, ReplyStatus.NoException, (w) => w.long(id * 10)));
    const all = Buffer.concat(msgs);
    for (const chunk of [1, 5, 12, 13, 100]) {
      const c = collector();
      for (let at = 0; at < all.length; at += chunk) c.framer.push(all.subarray(at, at + chunk));
      assert.deepEqual(
        c.messages.map((m) => decodeReply(m).body.long()),
        [10, 20, 30],
      );
      assert.deepEqual(c.errors, []);
    }
  });

  it('reads a large body straight into its message buffer and keeps CDR alignment', () => {
    const values = doubles(100_000);
    const msg = imageReply(7, values);
    const c = collector();
    feedLikeSocket(c.framer, msg, 65536);
    assert.equal(c.messages.length, 1);
    const { requestId, body } = decodeReply(c.messages[0]!);
    assert.equal(requestId, 7);
    assert.deepEqual(body.numbers('double'), values);
  });

  it('reassembles fragments, the data of each going behind the part before it', () => {
    for (const le of [true, false]) {
      const values = doubles(50_000);
      const parts = fragment(imageReply(9, values, le), 100_000);
      assert.ok(parts.length >= 4);
      const c = collector();
      feedLikeSocket(c.framer, Buffer.concat(parts), 40_000);
      assert.equal(c.messages.length, 1);
      const m = c.messages[0]!;
      assert.equal(m[7], MsgType.Reply);
      assert.equal(m[6]! & 2, 0, 'more-fragments flag cleared');
      assert.deepEqual(decodeReply(m).body.numbers('double'), values);
    }
  });

  it('delivers other messages between the fragments of a reply', () => {
    const parts = fragment(imageReply(1, doubles(2000)), 4000);
    const small = encodeReply(2, ReplyStatus.NoException, (w) => w.long(42));
    const c = collector();
    c.framer.push(Buffer.concat([parts[0]!, small, ...parts.slice(1)]));
    assert.deepEqual(
      c.messages.map((m) => decodeReply(m).requestId),
      [2, 1],
    );
  });

  it('skips fragments of messages it does not track', () => {
    const parts = fragment(imageReply(5, doubles(1000)), 3000);
    const next = encodeReply(6, ReplyStatus.NoException, (w) => w.long(1));
    const c = collector();
    c.framer.push(Buffer.concat([...parts.slice(1), next]));
    assert.deepEqual(
      c.messages.map((m) => decodeReply(m).requestId),
      [6],
    );
    assert.deepEqual(c.errors, []);
  });

  it('reports garbage, unknown versions and oversized messages once, then ignores input', () => {
    const cases: [Uint8Array, RegExp][] = [
      [new TextEncoder().encode('HTTP/1.1 200 OK\r\n\r\n'), /not a GIOP message/],
      [Uint8Array.from([0x47, 0x49, 0x4f, 0x50, 2, 0, 1, 0, 0, 0, 0, 0]), /unsupported GIOP version 2\.0/],
      [Uint8Array.from([0x47, 0x49, 0x4f, 0x50, 1, 2, 1, 9, 0, 0, 0, 0]), /unknown GIOP message type 9/],
      [Uint8Array.from([0x47, 0x49, 0x4f, 0x50, 1, 2, 1, 1, 0, 0, 0, 0x40]), /too large/],
      [Uint8Array.from([0x47, 0x49, 0x4f, 0x50, 1, 2, 1, 7, 2, 0, 0, 0]), /fragment without a request id/],
    ];
    for (const [bytes, why] of cases) {
      const c = collector(1 << 20);
      c.framer.push(bytes);
      c.framer.push(encodeReply(1, ReplyStatus.NoException));
      assert.equal(c.errors.length, 1);
      assert.match(c.errors[0]!, why);
      assert.equal(c.messages.length, 0);
      assert.ok(c.framer.failed);
    }
  });

  it('limits how many fragmented messages may be open at once', () => {
    const c = collector();
    for (let id = 1; id <= 70; id++) c.framer.push(fragment(imageReply(id, doubles(200)), 512)[0]!);
    assert.equal(c.errors.length, 1);
    assert.match(c.errors[0]!, /more than 64 fragmented GIOP messages/);
  });

  it('does not allocate what a bogus size announces before the data arrives', () => {
    const c = collector();
    const head = Uint8Array.from([0x47, 0x49, 0x4f, 0x50, 1, 2, 1, 1, 0, 0, 0, 0x1f]); // 496 MiB
    c.framer.push(head);
    assert.ok(c.framer.nextBuffer().length <= 8 * 1024 * 1024);
  });

  it('frames requests for the server side too', () => {
    const key = new TextEncoder().encode('sys/tg_test/1');
    const c = collector();
    c.framer.push(encodeRequest(3, key, 'ping'));
    c.framer.push(encodeRequest(4, key, 'read_attributes_5', (w) => w.strings(['a']).ulong(0)));
    assert.deepEqual(
      c.messages.map((m) => new CdrReader(m, true, 12).ulong()),
      [3, 4],
    );
  });
});
