import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Push } from 'zeromq';
import { makeFrame, sleep } from '../../../../core/index.js';
import { ServerClient, WriterServer, type StreamStatus } from '../../../../addons/remote/index.js';
import { freePort, tcpEndpoint, ZmqSender } from '../../../../transport/zmq/index.js';
import { readTiff } from '../../../../walkers/index.js';
import { requirePythonModule } from '../../../support/tools.js';

async function until(client: ServerClient, state: StreamStatus['state'], timeoutMs = 10_000): Promise<StreamStatus> {
  const end = performance.now() + timeoutMs;
  for (;;) {
    const s = await client.request<StreamStatus>('stream.status');
    if (s.state === state) return s;
    if (performance.now() > end) throw new Error(`stream stayed '${s.state}' (wanted '${state}')`);
    await sleep(50);
  }
}

describe('addons/remote servers', function () {
  this.timeout(30_000);
  let root: string;
  let server: WriterServer;
  let client: ServerClient;

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'concert-writer-'));
    server = await new WriterServer({ control: tcpEndpoint(), root }).start();
    client = await ServerClient.create(server.endpoint);
  });
  afterEach(async () => {
    client.close();
    await server.stop();
    await rm(root, { recursive: true, force: true });
  });

  it('binds its control endpoint on 127.0.0.1 by default', () => {
    assert.match(server.endpoint, /^tcp:\/\/127\.0\.0\.1:\d+$/);
  });

  it('malformed and truncated messages are counted and dropped; the server keeps running and takes the next valid stream', async () => {
    const data = tcpEndpoint(await freePort());
    const raw = new Push({ linger: 1000 });
    await raw.bind(data);
    try {
      await client.connectData(data, 'pull');
      await client.startStream('garbage');
      const header = (h: unknown) => Buffer.from(JSON.stringify(h));
      const bad: Buffer[][] = [
        [Buffer.from('{not json')],
        [header({ dtype: 'uint16', shape: [2, 2] }), Buffer.alloc(3)],
        [header({ dtype: 'complex128', shape: [1, 1] }), Buffer.alloc(16)],
        [header({ dtype: 'uint16', shape: [1e9, 1e9] }), Buffer.alloc(2)],
        [header({ dtype: 'uint16', shape: [-1, 2] }), Buffer.alloc(4)],
        [header({ dtype: 'uint8', shape: [1, 1] }), Buffer.alloc(1), Buffer.alloc(1)],
        [Buffer.alloc(0)],
      ];
      for (let i = 0; i < 120; i++) {
        const parts = bad[i % bad.length]!.map((b) => Buffer.from(b));
        if (i % 11 === 0) parts[0] = parts[0]!.subarray(0, Math.max(0, parts[0]!.length - 3)); // truncated
        await raw.send(parts);
      }
      await raw.send([
        header({ dtype: 'uint16', shape: [2, 3], frameNumber: 0 }),
        Buffer.from(new Uint16Array([1, 2, 3, 4, 5, 6]).buffer),
      ]);
      await raw.send(header({ end: true }));
      const done = await until(client, 'done');
      assert.equal(done.frames, 1, 'the valid frame was written');
      assert.ok(done.invalid >= 100, `invalid messages counted (${done.invalid})`);
      const status = await client.status();
      assert.equal(status.kind, 'writer');
      const [page] = await readTiff(join(root, 'garbage', 'frame_000000.tif'));
      assert.deepEqual([...page!.frame.data], [1, 2, 3, 4, 5, 6]);
    } finally {
      raw.close();
    }
  });

  it('bad control requests get clear errors and change nothing', async () => {
    await assert.rejects(client.startStream('x'), /no data connection: call 'connect' first/);
    await assert.rejects(
      client.request('connect', { endpoint: 'tcp://127.0.0.1:1', mode: 'dealer' }),
      /mode must be 'pull' or 'sub'/,
    );
    await assert.rejects(client.request('walker.descend', { name: '../../etc' }), /leads out of the walker root/);
    await assert.rejects(client.request('nope'), /nope/);
    assert.equal((await client.status()).stream.state, 'idle');
  });

  it('a stream that stops without an end marker fails after the idle timeout instead of hanging', async () => {
    await server.stop();
    server = await new WriterServer({ control: tcpEndpoint(), root, idleTimeoutMs: 300 }).start();
    client.close();
    client = await ServerClient.create(server.endpoint);
    const sender = await ZmqSender.create({ mode: 'push', bind: tcpEndpoint(await freePort()) });
    try {
      await client.connectData(sender.endpoint, 'pull');
      await client.startStream('cut');
      await sender.send(makeFrame(new Uint16Array(4), [2, 2]));
      const failed = await until(client, 'failed');
      assert.match(failed.error!.message, /no message from .* within 300 ms/);
      assert.equal(failed.frames, 1);
    } finally {
      sender.close();
    }
  });

  it('takes a stream from a Python (Concert-style) sender', async function () {
    requirePythonModule(this, 'zmq', 'python3-zmq');
    requirePythonModule(this, 'numpy', 'python3-numpy');
    const endpoint = tcpEndpoint(await freePort());
    const python = spawn(
      '/usr/bin/python3',
      [join(import.meta.dirname, '../../transport/python/sender.py'), endpoint, '6'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    try {
      await new Promise<void>((resolve, reject) => {
        python.stdout.on('data', (d) => String(d).includes('bound') && resolve());
        python.once('exit', (code) => reject(new Error(`python sender exited ${code}`)));
      });
      await client.connectData(endpoint, 'pull');
      await client.startStream('from-python');
      const done = await until(client, 'done');
      assert.equal(done.frames, 6);
      assert.equal((await readdir(join(root, 'from-python'))).length, 6);
    } finally {
      python.kill();
    }
  });
});
