import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeFrame, sleep } from '../../../../../core/index.js';
import {
  ServerClient,
  StreamServer,
  WriterServer,
  type StreamSink,
  type StreamStatus,
} from '../../../../../addons/remote/index.js';
import {
  STREAM_SERVER_COMMANDS,
  STREAM_SERVER_TRANSITIONS,
  StreamStateMachine,
  type StreamServerState,
} from '../../../../../addons/remote/server/stream-state.js';
import { freePort, tcpEndpoint, ZmqSender } from '../../../../../transport/zmq/index.js';
import { readTiff } from '../../../../../walkers/index.js';

async function until(client: ServerClient, state: StreamStatus['state'], timeoutMs = 10_000): Promise<StreamStatus> {
  const end = performance.now() + timeoutMs;
  for (;;) {
    const s = await client.request<StreamStatus>('stream.status');
    if (s.state === state) return s;
    if (performance.now() > end) throw new Error(`stream stayed '${s.state}' (wanted '${state}')`);
    await sleep(20);
  }
}

const frame = (n: number) => makeFrame(new Uint16Array([n, n, n, n]), [2, 2], { frameNumber: n });

describe('addons/remote/server/stream-state', () => {
  it('allows exactly the transitions of its table', () => {
    const all = Object.keys(STREAM_SERVER_TRANSITIONS) as StreamServerState[];
    // walk every state through allowed transitions; refuse every other one
    const reach = (target: StreamServerState): StreamStateMachine => {
      const paths: Record<StreamServerState, StreamServerState[]> = {
        unconnected: [],
        connecting: ['connecting'],
        ready: ['connecting', 'ready'],
        opening: ['connecting', 'ready', 'opening'],
        streaming: ['connecting', 'ready', 'opening', 'streaming'],
        closing: ['connecting', 'ready', 'opening', 'streaming', 'closing'],
        draining: ['connecting', 'ready', 'opening', 'streaming', 'closing', 'draining'],
      };
      const m = new StreamStateMachine();
      for (const s of paths[target]) m.enter(s);
      assert.equal(m.state, target);
      return m;
    };
    for (const from of all)
      for (const to of all) {
        const m = reach(from);
        if (STREAM_SERVER_TRANSITIONS[from].includes(to)) {
          m.enter(to);
          assert.equal(m.state, to);
        } else assert.throws(() => m.enter(to), /no transition/, `${from} → ${to}`);
      }
  });

  it('refuses commands outside their states, naming the state and why', () => {
    const m = new StreamStateMachine();
    assert.throws(() => m.check('stream.start'), /stream.start refused: no data connection: call 'connect' first/);
    m.enter('connecting');
    assert.throws(() => m.check('connect'), /connect refused: the data socket is being connected/);
    m.enter('ready');
    m.check('stream.start');
    m.enter('opening');
    m.stream = 'radios';
    for (const command of Object.keys(STREAM_SERVER_COMMANDS) as (keyof typeof STREAM_SERVER_COMMANDS)[])
      assert.throws(
        () => m.check(command),
        new RegExp(`${command} refused: stream 'radios' is still running; a server takes one stream at a time`),
      );
  });
});

describe('addons/remote/server/stream-server: every transition against a real writer server', function () {
  this.timeout(30_000);
  let root: string;
  let server: WriterServer;
  let client: ServerClient;
  const senders: ZmqSender[] = [];

  async function sender(): Promise<ZmqSender> {
    const s = await ZmqSender.create({ mode: 'push', bind: tcpEndpoint(await freePort()), sendTimeoutMs: 3000 });
    senders.push(s);
    return s;
  }

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'concert-stream-server-'));
    server = await new WriterServer({ control: tcpEndpoint(), root, idleTimeoutMs: 5000 }).start();
    client = await ServerClient.create(server.endpoint);
  });
  afterEach(async () => {
    for (const s of senders.splice(0)) s.close();
    client.close();
    await server.stop();
    await rm(root, { recursive: true, force: true });
  });

  it('unconnected → connecting → ready; a failed connect leaves the working data socket in place', async () => {
    assert.equal((await client.status()).state, 'unconnected');
    const camera = await sender();
    await client.connectData(camera.endpoint, 'pull');
    assert.equal((await client.status()).state, 'ready');
    for (const bad of ['tcp://127.0.0.1:notaport', 'tcp://127.0.0.1', 'ipc://'])
      await assert.rejects(client.connectData(bad, 'pull'), /cannot connect to|connect needs/, bad);
    await assert.rejects(client.request('connect', { endpoint: 'nonsense', mode: 'pull' }), /connect needs/);
    const status = await client.status();
    assert.equal(status.state, 'ready');
    assert.equal(status.data, camera.endpoint, 'still connected where it was');
    await client.startStream('still-works', { id: 's1' });
    await camera.send(frame(0), { stream: 's1' });
    await camera.end({ stream: 's1', frames: 1 });
    assert.equal((await until(client, 'done')).frames, 1);
  });

  it('two concurrent stream.start: exactly one is taken', async () => {
    const camera = await sender();
    await client.connectData(camera.endpoint, 'pull');
    const results = await Promise.allSettled([
      client.startStream('first', { id: 'a' }),
      client.startStream('second', { id: 'b' }),
    ]);
    assert.deepEqual(
      results.map((r) => r.status),
      ['fulfilled', 'rejected'],
    );
    assert.match(
      String((results[1] as PromiseRejectedResult).reason),
      /stream 'first' is still running; a server takes one stream at a time/,
    );
    assert.equal((await client.status()).state, 'streaming');
    await client.request('stream.cancel', { id: 'a' });
    assert.equal((await client.status()).state, 'ready', 'a cancelled stream with an id needs no drain');
  });

  it('stream ids: a stale end marker never ends the next stream; strays are counted; the count is checked', async () => {
    const camera = await sender();
    await client.connectData(camera.endpoint, 'pull');
    await client.startStream('radios', { id: 'B' });
    await camera.send(frame(99), { stream: 'A' });
    await camera.end({ stream: 'A', frames: 300 }); // the cancelled stream's end marker
    await sleep(100);
    assert.equal((await client.request<StreamStatus>('stream.status')).state, 'running', "A's end did not end B");
    for (let i = 0; i < 3; i++) await camera.send(frame(i), { stream: 'B' });
    await camera.end({ stream: 'B', frames: 3 });
    const done = await until(client, 'done');
    assert.deepEqual([done.frames, done.stray, done.expected, done.id], [3, 2, 3, 'B']);
    const files = (await readdir(join(root, 'radios'))).sort();
    const numbers = await Promise.all(
      files.map(async (f) => (await readTiff(join(root, 'radios', f)))[0]!.frame.metadata.frameNumber),
    );
    assert.deepEqual(numbers, [0, 1, 2]);
  });

  it('a stream that got fewer frames than its sender says it sent fails (never done)', async () => {
    const camera = await sender();
    await client.connectData(camera.endpoint, 'pull');
    await client.startStream('short', { id: 'S' });
    await camera.send(frame(0), { stream: 'S' });
    await camera.end({ stream: 'S', frames: 2 });
    const failed = await until(client, 'failed');
    assert.match(failed.error!.message, /received 1 of the 2 frames the sender sent in stream 'short'/);
  });

  it('followStream: an unknown camera count is an error, never a pass', async () => {
    const camera = await sender();
    await client.connectData(camera.endpoint, 'pull');
    await client.startStream('radios', { id: 'C' });
    await camera.send(frame(0), { stream: 'C' });
    await camera.end({ stream: 'C' });
    const never = new Promise<number>(() => undefined);
    await assert.rejects(
      client.followStream('radios', never, {
        signal: new AbortController().signal,
        lossless: true,
        id: 'C',
        countWaitMs: 300,
      }),
      /confirmed 1 frames of stream 'radios', but how many the camera sent is not known within 300 ms/,
    );
  });

  it('followStream: a server that reports another stream (restarted, taken over) fails the run', async () => {
    const camera = await sender();
    await client.connectData(camera.endpoint, 'pull');
    await client.startStream('radios', { id: 'other' });
    await assert.rejects(
      client.followStream('radios', Promise.resolve(0), {
        signal: new AbortController().signal,
        lossless: true,
        id: 'mine',
      }),
      /lost stream 'radios': it reports stream 'radios' \(other\) instead/,
    );
    assert.equal((await client.request<StreamStatus>('stream.status')).state, 'running', 'not cancelled: not ours');
  });

  it('a [0, 0] frame is refused at validation and the stream goes on', async () => {
    const { Push } = await import('zeromq');
    const raw = new Push({ linger: 0 });
    const endpoint = tcpEndpoint(await freePort());
    await raw.bind(endpoint);
    try {
      await client.connectData(endpoint, 'pull');
      await client.startStream('empty', { id: 'E' });
      await raw.send([Buffer.from('{"dtype":"uint16","shape":[0,0],"stream":"E"}'), Buffer.alloc(0)]);
      await raw.send([
        Buffer.from('{"dtype":"uint16","shape":[1,1],"frameNumber":0,"stream":"E"}'),
        Buffer.from([7, 0]),
      ]);
      await raw.send(Buffer.from('{"end":true,"stream":"E","frames":1}'));
      const done = await until(client, 'done');
      assert.deepEqual([done.frames, done.invalid], [1, 1]);
    } finally {
      raw.close();
    }
  });

  it('disconnect cancels a running stream and goes back to unconnected; draining ends by itself', async () => {
    const camera = await sender();
    await client.connectData(camera.endpoint, 'pull');
    await client.startStream('legacy'); // no id: a cancel drains
    await camera.send(frame(0));
    await client.request('stream.cancel');
    assert.equal((await client.status()).state, 'draining');
    await sleep(700);
    assert.equal((await client.status()).state, 'ready', 'the drain stops after a quiet half second');
    await client.startStream('next', { id: 'N' });
    await client.disconnectData();
    const status = await client.status();
    assert.equal(status.state, 'unconnected');
    assert.equal(status.stream.state, 'cancelled');
    await assert.rejects(client.startStream('x'), /no data connection: call 'connect' first/);
  });

  it('a stream.cancel that arrives while stream.start is still opening cancels that stream', async () => {
    class SlowOpening extends StreamServer {
      constructor() {
        super('benchmarker', { control: tcpEndpoint() });
      }
      protected async openStream(): Promise<StreamSink> {
        await sleep(300);
        return { frame: () => undefined, close: async () => undefined };
      }
    }
    const slow = await new SlowOpening().start();
    const c = await ServerClient.create(slow.endpoint);
    try {
      const camera = await sender();
      await c.connectData(camera.endpoint, 'pull');
      const starting = c.startStream('radios', { id: 'late' });
      await sleep(50);
      await c.request('stream.cancel', { id: 'late' });
      await assert.rejects(starting, /cancelled while it was being opened/);
      assert.equal((await c.status()).state, 'ready');
      await assert.rejects(c.request('stream.cancel', { id: 42 }), /stream.cancel takes \{ id\?: a stream id \}/);
    } finally {
      c.close();
      await slow.stop();
    }
  });
});
