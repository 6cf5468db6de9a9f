import assert from 'node:assert/strict';
import { Request } from 'zeromq';
import { ParameterError } from '../../../core/errors.js';
import { ControlClient, ControlServer, RemoteError, tcpEndpoint, TransportError } from '../../../transport/index.js';
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
    assert.deepEqual(JSON.parse(reply!.toString()), { id: 'py-1', ok: true, result: 42 });
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
