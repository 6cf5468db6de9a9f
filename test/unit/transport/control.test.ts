import assert from 'node:assert/strict';
import { Request } from 'zeromq';
import { ParameterError } from '../../../core/errors.js';
import {
  ControlClient,
  ControlServer,
  freePort,
  RemoteError,
  tcpEndpoint,
  TransportError,
} from '../../../transport/index.js';
import { Closer, rejection, sleep } from './helpers.js';

describe('transport/zmq/control', () => {
  const closer = new Closer();
  afterEach(() => closer.closeAll());

  async function pair(timeoutMs = 2000) {
    const server = closer.track(
      await ControlServer.create({
        bind: tcpEndpoint(),
        handlers: {
          add: (params) => (params as { a: number; b: number }).a + (params as { a: number; b: number }).b,
          slow: async (params) => {
            await sleep((params as { ms: number }).ms);
            return (params as { ms: number }).ms;
          },
          fail: () => {
            throw new ParameterError('writer.exposure: -1 ms is out of range');
          },
          nothing: () => undefined,
        },
      }),
    );
    const client = closer.track(await ControlClient.create({ connect: server.endpoint, timeoutMs }));
    return { server, client };
  }

  it('answers requests with results', async () => {
    const { client, server } = await pair();
    assert.equal(await client.request<number>('add', { a: 2, b: 3 }), 5);
    assert.equal(await client.request('nothing'), null);
    assert.equal(server.counters.requests, 2);
  });

  it('refuses params that are not an object before any handler runs', async () => {
    const { client } = await pair();
    for (const params of ['x', 42, true, [1, 2]])
      await assert.rejects(client.request('add', params), /params must be an object \(or absent\)/);
  });

  it('matches concurrent replies to their requests', async () => {
    const { client } = await pair();
    const results = await Promise.all([60, 10, 30, 0].map((ms) => client.request<number>('slow', { ms })));
    assert.deepEqual(results, [60, 10, 30, 0]);
  });

  it('turns handler errors and unknown methods into RemoteErrors with the server message', async () => {
    const { client, server } = await pair();
    const error = await rejection(() => client.request('fail'));
    assert.ok(error instanceof RemoteError);
    assert.equal(error.remoteName, 'ParameterError');
    assert.match(error.message, /writer\.exposure: -1 ms is out of range/);
    const unknown = await rejection(() => client.request('nope'));
    assert.ok(unknown instanceof RemoteError && /unknown control method 'nope'/.test(unknown.message));
    server.handle('nope', () => 'now known');
    assert.equal(await client.request('nope'), 'now known');
  });

  it('times out with a TransportError naming the endpoint when the server is gone, and recovers when it is back', async () => {
    const { client, server } = await pair(300);
    const endpoint = server.endpoint;
    server.close();
    await sleep(50);
    const t0 = Date.now();
    const error = await rejection(() => client.request('add', { a: 1, b: 1 }));
    assert.ok(error instanceof TransportError, String(error));
    assert.ok(error.message.includes(endpoint) && /no reply within 300 ms/.test(error.message), error.message);
    assert.ok(Date.now() - t0 < 1500);
    // a later request with a slow handler also times out instead of hanging
    const again = closer.track(await ControlServer.create({ bind: endpoint, handlers: { add: () => 'back' } }));
    assert.equal(again.endpoint, endpoint);
    let answer: unknown;
    for (let i = 0; i < 20 && answer === undefined; i++) answer = await client.request('add').catch(() => undefined);
    assert.equal(answer, 'back');
  });

  it('a slow handler times out on the client; its late reply is ignored', async () => {
    const { client } = await pair();
    const error = await rejection(() => client.request('slow', { ms: 300 }, { timeoutMs: 50 }));
    assert.ok(error instanceof TransportError);
    await sleep(300);
    assert.equal(await client.request('add', { a: 1, b: 2 }), 3);
  });

  it('also answers a plain REQ client (as Python zmq.REQ + send_json would send)', async () => {
    const { server } = await pair();
    const req = closer.track(new Request({ linger: 0, receiveTimeout: 2000 }));
    req.connect(server.endpoint);
    await req.send(JSON.stringify({ id: 'py-1', method: 'add', params: { a: 20, b: 22 } }));
    const [reply] = await req.receive();
    const { time, ...rest } = JSON.parse(reply!.toString());
    assert.deepEqual(rest, { id: 'py-1', ok: true, result: 42 });
    assert.ok(Math.abs(time - Date.now()) < 1000, 'the reply carries the server clock');
  });

  it('a request can be aborted, and a closed client rejects', async () => {
    const { client } = await pair();
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 20);
    const error = await rejection(() => client.request('slow', { ms: 500 }, { signal: controller.signal }));
    assert.equal(error.name, 'AbortError');
    const pending = client.request('slow', { ms: 500 });
    client.close();
    await assert.rejects(pending, TransportError);
    await assert.rejects(client.request('add'), TransportError);
  });
});

describe('transport/zmq/control: a request that timed out never runs (issue 10, item 3)', function () {
  this.timeout(20_000);
  const closer = new Closer();
  afterEach(() => closer.closeAll());

  async function markingServer(endpoint: string, marks: string[]): Promise<ControlServer> {
    return closer.track(
      await ControlServer.create({
        bind: endpoint,
        handlers: {
          mark: (p) => void marks.push(String((p as { what: string }).what)),
          block: (p) => {
            const until = Date.now() + (p as { ms: number }).ms;
            while (Date.now() < until); // a server too busy to read its socket
          },
        },
      }),
    );
  }

  it('requests queued while the server is down do not run on the restarted server', async () => {
    const endpoint = tcpEndpoint(await freePort());
    const marks: string[] = [];
    const first = await markingServer(endpoint, marks);
    const client = closer.track(await ControlClient.create({ connect: endpoint, timeoutMs: 800 }));
    await client.request('mark', { what: 'before' });
    first.close();
    await sleep(100);
    // two requests while the server is down: the second waits behind the first
    const failures = ['a', 'b', 'c'].map((what) => client.request('mark', { what }).catch((e: unknown) => e));
    const errors = await Promise.all(failures);
    for (const e of errors) assert.ok(e instanceof TransportError, String(e));
    await markingServer(endpoint, marks);
    await sleep(2500);
    assert.deepEqual(marks, ['before'], 'no request that had failed ran later');
    await client.request('mark', { what: 'after' });
    assert.deepEqual(marks, ['before', 'after'], 'the restarted server answers new requests');
  });

  it('a server that reads a request after its deadline drops it (and counts it)', async () => {
    const marks: string[] = [];
    const server = await markingServer(tcpEndpoint(), marks);
    const client = closer.track(await ControlClient.create({ connect: server.endpoint, timeoutMs: 2000 }));
    await client.request('mark', { what: 'sync' }); // learns the server's clock
    // a handler that blocks the server's event loop past the next request's deadline
    const blocking = client.request('block', { ms: 500 });
    const late = client.request('mark', { what: 'late' }, { timeoutMs: 200 }).catch((e: unknown) => e);
    await blocking;
    assert.ok((await late) instanceof TransportError);
    await sleep(200);
    assert.deepEqual(marks, ['sync']);
    assert.equal(server.counters.expired, 1);
  });
});
