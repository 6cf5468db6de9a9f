import assert from 'node:assert/strict';
import { OptionError } from '../../../core/errors.js';
import { join } from 'node:path';
import { WebSocketServer } from 'ws';
import { sleep, type Frame } from '../../../core/index.js';
import { Camera as RemoteCamera } from '../../../devices/cameras/remote.js';
import { spawnServer, type ServerProcess } from '../../../addons/remote/spawn.js';
import { LogReader, RecordingError, StreamRecorder, type LogRecord } from '../../../recording/index.js';
import { freePort, tcpEndpoint, ZmqReceiver } from '../../../transport/index.js';
import { rejectsWith } from '../../support/async.js';
import { useTempDir } from '../walkers/formats/helpers.js';

async function records(path: string): Promise<LogRecord[]> {
  const reader = await LogReader.open(path);
  const out: LogRecord[] = [];
  for await (const r of reader.records()) out.push(r);
  assert.ok(reader.ending?.complete, `${path} is complete`);
  await reader.close();
  return out;
}

async function until(what: string, condition: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

const bytes = (f: Frame) => Buffer.from(f.data.buffer, f.data.byteOffset, f.data.byteLength);

describe('recording/stream-recorder', function () {
  this.timeout(60_000);
  const dir = useTempDir();
  const closers: Array<() => unknown> = [];
  afterEach(async () => {
    for (const c of closers.splice(0).reverse()) await Promise.resolve(c()).catch(() => undefined);
  });

  it('records three segments of a live camera server stream (real process): bit-identical frames, in order', async () => {
    const server: ServerProcess = await spawnServer('camera', { width: 64, height: 48, frameRate: 500 });
    closers.push(() => server.stop('SIGKILL'));
    const camera = await RemoteCamera.create({ name: 'camera', endpoint: server.endpoint });
    closers.push(() => camera.disconnect());
    const [forRecorder, forTest] = [tcpEndpoint(await freePort()), tcpEndpoint(await freePort())];
    await camera.registerEndpoint(forRecorder, { mode: 'push' });
    await camera.registerEndpoint(forTest, { mode: 'push' });
    const rec = await StreamRecorder.create({ source: forRecorder });
    closers.push(() => rec.close());
    const originals = await ZmqReceiver.create({ mode: 'pull', connect: forTest });
    closers.push(() => originals.close());
    assert.equal(rec.source.kind, 'zmq');
    await camera.startRecording();
    let expected = 0;
    for (let segment = 0; segment < 3; segment++) {
      const path = join(dir.path, `run${segment}.clog`);
      await rec.start(path);
      await rejectsWith(
        rec.start(join(dir.path, 'other.clog')),
        RecordingError,
        /already recording to .*run\d\.clog; stop\(\) first/,
      );
      const sent: Frame[] = [];
      const receiving = (async () => {
        for await (const f of originals.stream({ idleTimeoutMs: 10_000 })) sent.push(f);
      })();
      await camera.grabSend(10);
      await receiving;
      expected += 11; // 10 frames and the end marker
      await until('the recorder to get the stream', () => rec.counters.recorded === expected);
      const result = await rec.stop();
      assert.deepEqual([result.path, result.frames, result.records], [path, 10, 11]);
      const got = await records(path);
      assert.deepEqual(
        got.map((r) => r.kind),
        [...Array(10).fill('frame'), 'end'],
      );
      for (const [i, r] of got.slice(0, 10).entries()) {
        assert.ok(r.kind === 'frame');
        assert.equal(r.frame.metadata.frameNumber, sent[i]!.metadata.frameNumber, 'same order');
        assert.ok(bytes(r.frame).equals(bytes(sent[i]!)), `segment ${segment} frame ${i} bit-identical`);
        assert.deepEqual(r.frame.shape, [48, 64]);
      }
      // Between segments the stream keeps flowing and is not recorded.
      const between = (async () => {
        for await (const _ of originals.stream({ idleTimeoutMs: 10_000 }));
      })();
      await camera.grabSend(3);
      await between;
      await until('the recorder to drain the frames in between', () => rec.counters.discarded === 4 * (segment + 1));
    }
    assert.equal(rec.segments.length, 3);
    await camera.stopRecording();
  });

  it('records a websocket source: text and binary messages stored as they came, only while recording', async () => {
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    closers.push(() => new Promise((r) => wss.close(r)));
    await new Promise((r) => wss.once('listening', r));
    const uri = `ws://127.0.0.1:${(wss.address() as { port: number }).port}/events`;
    const connected = new Promise<import('ws').WebSocket>((r) => wss.once('connection', r));
    const rec = await StreamRecorder.create({ source: uri });
    closers.push(() => rec.close());
    const client = await connected;
    const send = async (messages: Array<string | Buffer>) => {
      const before = rec.counters.recorded + rec.counters.discarded;
      for (const m of messages) client.send(m, { binary: typeof m !== 'string' });
      await until('the messages', () => rec.counters.recorded + rec.counters.discarded === before + messages.length);
    };
    await send(['{"before": true}']);
    const path = join(dir.path, 'ws.clog');
    await rec.start(path);
    const messages = ['{"type":"state","x":1}', Buffer.from([0, 255, 7, 8]), 'ünïcode ✓', Buffer.alloc(100_000, 3)];
    await send(messages);
    await rec.stop();
    await send(['{"after": true}']);
    const got = await records(path);
    assert.deepEqual(
      got.map((r) => r.kind),
      ['text', 'binary', 'text', 'binary'],
    );
    assert.equal((got[0] as { text: string }).text, messages[0]);
    assert.deepEqual(Buffer.from((got[1] as { data: Uint8Array }).data), messages[1]);
    assert.equal((got[2] as { text: string }).text, messages[2]);
    assert.ok(Buffer.from((got[3] as { data: Uint8Array }).data).equals(messages[3] as Buffer));
    assert.ok(got.every((r, i) => i === 0 || r.receivedAt >= got[i - 1]!.receivedAt));
    const reader = await LogReader.open(path);
    assert.deepEqual(reader.header.source, { kind: 'websocket', description: uri, uri });
    await reader.close();
    assert.equal(rec.counters.discarded, 2);
  });

  it('says what is wrong: not recording, an unknown scheme, an unreachable websocket', async () => {
    const rec = await StreamRecorder.create({ source: tcpEndpoint(await freePort()) });
    closers.push(() => rec.close());
    await rejectsWith(rec.stop(), RecordingError, /not recording; start\('file\.clog'\) first/);
    await rejectsWith(
      StreamRecorder.create({ source: 'http://x' }),
      Error,
      /ZeroMQ endpoint \(tcp:\/\/, ipc:\/\/\) or a websocket URI/,
    );
    await rejectsWith(
      StreamRecorder.create({ source: `ws://127.0.0.1:${await freePort()}` }),
      RecordingError,
      /cannot connect to ws:\/\/127\.0\.0\.1:\d+: .*ECONNREFUSED/,
    );
    await rejectsWith(
      StreamRecorder.create({ source: 'tcp://127.0.0.1:1', speed: 1 } as never),
      Error,
      /unknown option 'speed'/,
    );
    await rejectsWith(
      StreamRecorder.create({ source: 'tcp://127.0.0.1:1', mode: 'push' } as never),
      OptionError,
      /StreamRecorder\.create: option 'mode' must be one of "pull", "sub", got "push"/,
    );
    await rejectsWith(
      StreamRecorder.create({} as never),
      OptionError,
      /option 'source' is required \(a ZeroMQ endpoint/,
    );
  });
});
