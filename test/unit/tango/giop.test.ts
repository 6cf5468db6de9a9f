import assert from 'node:assert/strict';
import { GiopConnection, GiopSystemException, MsgType, ReplyStatus, encodeReply } from '../../../tango/giop.js';
import { TangoProtocolError, TangoTimeoutError, TangoTransportError } from '../../../tango/errors.js';
import { FakeGiopServer, type FakeRequest } from './fake-giop-server.js';
import { fragment } from './giop-fragments.js';

const KEY = new TextEncoder().encode('a/b/c');
const longReply = (req: FakeRequest, v: number, le = true): Uint8Array =>
  encodeReply(req.id, ReplyStatus.NoException, (w) => w.long(v), le);

describe('tango/giop', function () {
  this.timeout(10000);
  let server: FakeGiopServer;
  let conn: GiopConnection;
  const read = (c: GiopConnection, op = 'op', timeoutMs = 1000): Promise<number> =>
    c.call(KEY, op, (w) => w.long(1), { timeoutMs, device: 'a/b/c' }).then((r) => r.long());

  beforeEach(async () => {
    server = await new FakeGiopServer((req) => ({ chunks: [longReply(req, req.id)] })).listen();
    conn = GiopConnection.acquire('127.0.0.1', server.port);
  });
  afterEach(async () => {
    conn.release();
    await server.close();
  });

  it('sends well-formed requests with the object key and operation', async () => {
    let seen: FakeRequest | undefined;
    server.handler = (req) => {
      seen = req;
      return { chunks: [longReply(req, 5)] };
    };
    assert.equal(await read(conn, 'read_attributes_5'), 5);
    assert.equal(seen!.operation, 'read_attributes_5');
    assert.equal(seen!.objectKey, 'a/b/c');
    assert.equal(seen!.body.long(), 1);
  });

  it('shares one connection per endpoint and matches out-of-order replies by request id', async () => {
    const held: FakeRequest[] = [];
    server.handler = (req, s) => {
      held.push(req);
      if (held.length === 3) for (const r of held.reverse()) s.write(longReply(r, r.id * 10));
      return undefined;
    };
    const other = GiopConnection.acquire('127.0.0.1', server.port);
    assert.equal(other, conn);
    const values = await Promise.all([read(conn), read(conn), read(other)]);
    other.release();
    assert.deepEqual(values, held.map((r) => r.id * 10).reverse());
    assert.equal(server.sockets.size, 1);
  });

  it('reassembles fragmented replies, little and big endian', async () => {
    for (const le of [true, false]) {
      server.handler = (req) => ({
        chunks: fragment(
          encodeReply(
            req.id,
            ReplyStatus.NoException,
            (w) =>
              w.numbers(
                'double',
                Float64Array.from({ length: 1000 }, (_, i) => i),
              ),
            le,
          ),
          700,
        ),
      });
      const r = await conn.call(KEY, 'op', undefined, {});
      const arr = r.numbers('double');
      assert.equal(arr.length, 1000);
      assert.equal(arr[999], 999);
    }
  });

  it('receives large fragmented replies over the socket intact (read straight into the message)', async () => {
    const values = Float64Array.from({ length: 300_000 }, (_, i) => Math.sin(i));
    server.handler = (req) => ({
      chunks: fragment(
        encodeReply(req.id, ReplyStatus.NoException, (w) => w.numbers('double', values)),
        1_000_000,
      ),
    });
    const replies = await Promise.all([1, 2, 3].map(() => conn.call(KEY, 'op', undefined, {})));
    for (const r of replies) assert.deepEqual(r.numbers('double'), values);
  });

  it('refuses timeouts a timer cannot wait, naming the option', async () => {
    await assert.rejects(
      read(conn, 'op', 1e12),
      /timeoutMs must be a number of ms in \(0, 2147483647\], got 1000000000000/,
    );
    await assert.rejects(read(conn, 'op', 0), /timeoutMs/);
  });

  it('times out a silent call, ignores its late reply, and keeps working', async () => {
    server.handler = (req) =>
      req.operation === 'slow' ? { chunks: [longReply(req, 1)], delayMs: 300 } : { chunks: [longReply(req, 2)] };
    const t0 = Date.now();
    await assert.rejects(
      read(conn, 'slow', 100),
      (e: unknown) => e instanceof TangoTimeoutError && /a\/b\/c at 127\.0\.0\.1:\d+: slow timed out/.test(e.message),
    );
    assert.ok(Date.now() - t0 < 250);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(await read(conn, 'fast'), 2);
  });

  it('resends pending requests after an orderly CloseConnection', async () => {
    let first = true;
    server.handler = (req) => {
      if (first) {
        first = false;
        return {
          chunks: [new Uint8Array([0x47, 0x49, 0x4f, 0x50, 1, 2, 1, MsgType.CloseConnection, 0, 0, 0, 0])],
          close: true,
        };
      }
      return { chunks: [longReply(req, 7)] };
    };
    assert.equal(await read(conn), 7);
  });

  it('fails pending calls when the connection drops and reconnects on the next call', async () => {
    server.handler = () => ({ chunks: [], close: true });
    await assert.rejects(
      read(conn),
      (e: unknown) => e instanceof TangoTransportError && /connection lost/.test(e.message),
    );
    server.handler = (req) => ({ chunks: [longReply(req, 3)] });
    assert.equal(await read(conn), 3);
  });

  it('maps CORBA system exceptions and garbage', async () => {
    server.handler = (req) => ({
      chunks: [
        encodeReply(req.id, ReplyStatus.SystemException, (w) =>
          w.string('IDL:omg.org/CORBA/BAD_OPERATION:1.0').ulong(0x4f4d0001).ulong(1),
        ),
      ],
    });
    await assert.rejects(
      read(conn),
      (e: unknown) => e instanceof GiopSystemException && e.repoId.includes('BAD_OPERATION'),
    );
    server.handler = () => ({ chunks: [new TextEncoder().encode('HTTP/1.1 400 Bad Request\r\n\r\n')] });
    await assert.rejects(read(conn), TangoProtocolError);
    server.handler = (req) => ({ chunks: [longReply(req, 4)] });
    assert.equal(await read(conn), 4);
  });

  it('reports a refused connection naming the endpoint', async () => {
    const c = new GiopConnection('127.0.0.1', 1);
    await assert.rejects(
      read(c),
      (e: unknown) => e instanceof TangoTransportError && /127\.0\.0\.1:1: cannot connect/.test(e.message),
    );
    c.close();
  });
});
