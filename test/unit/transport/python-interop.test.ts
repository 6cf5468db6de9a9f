import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DTYPES, type Frame } from '../../../core/frame.js';
import { freePort, tcpEndpoint, ZmqReceiver, ZmqSender } from '../../../transport/index.js';
import { Closer, testFrame } from './helpers.js';

const PYTHON = '/usr/bin/python3';
const here = join(dirname(fileURLToPath(import.meta.url)), 'python');

/** Why Python interop cannot run here, or undefined if it can. */
function pythonMissing(): string | undefined {
  const probe = spawnSync(PYTHON, ['-c', 'import zmq, numpy'], { encoding: 'utf8', timeout: 10_000 });
  if (probe.error) return `${PYTHON} not runnable: ${probe.error.message}`;
  if (probe.status !== 0)
    return `${PYTHON} lacks python3-zmq or python3-numpy: ${probe.stderr.trim().split('\n').pop()}`;
  return undefined;
}

function runPython(
  script: string,
  args: string[],
): { done: Promise<{ code: number | null; stdout: string; stderr: string }>; kill(): void } {
  const child = spawn(PYTHON, [join(here, script), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.on('close', (code) => resolve({ code, stdout, stderr })),
  );
  return { done, kill: () => child.kill('SIGKILL') };
}

describe('transport/zmq interop with Python (pyzmq + numpy)', function () {
  this.timeout(30_000);
  const closer = new Closer();
  afterEach(() => closer.closeAll());
  before(function () {
    const reason = pythonMissing();
    if (reason) {
      console.log(`      skipped: ${reason}`);
      this.skip();
    }
  });

  it('receives a Concert-style Python stream (binding sender, every dtype, big-endian too)', async () => {
    const endpoint = tcpEndpoint(await freePort());
    const count = 10;
    const python = runPython('sender.py', [endpoint, String(count)]);
    closer.track({ close: python.kill });
    const receiver = closer.track(await ZmqReceiver.create({ mode: 'pull', connect: endpoint }));
    const got: Frame[] = [];
    // reading a stream with an id: Python's untagged frames and end marker belong to it
    for await (const frame of receiver.stream({ idleTimeoutMs: 15_000, id: 'run-7' })) got.push(frame);
    const result = await python.done;
    assert.equal(result.code, 0, result.stderr);
    assert.equal(got.length, count);
    const dtypes = ['uint16', 'float32', 'uint8', 'uint16', 'int32', 'float64', 'int16', 'int8', 'uint32', 'uint16'];
    got.forEach((frame, i) => {
      assert.equal(frame.dtype, dtypes[i]);
      assert.deepEqual(frame.shape, [16 + i, 20 + 2 * i]);
      assert.equal(frame.metadata.index, i);
      assert.equal(frame.metadata.frameNumber, i, 'numbered by arrival when the header has none');
      const want = testFrame(frame.dtype, frame.shape[0], frame.shape[1], i).data;
      assert.deepEqual(
        Array.from(frame.data as ArrayLike<number>),
        Array.from(want as ArrayLike<number>),
        `frame ${i} (${frame.dtype})`,
      );
    });
    assert.equal(receiver.counters.invalid, 0);
    assert.equal(receiver.counters.stray, 0);
  });

  it('feeds a Concert-style Python receiver (our sender binds), stream ids and frame counts included', async () => {
    const sender = closer.track(await ZmqSender.create({ mode: 'push', bind: tcpEndpoint() }));
    const python = runPython('receiver.py', [sender.endpoint]);
    closer.track({ close: python.kill });
    for (const [i, dtype] of DTYPES.entries())
      await sender.send(testFrame(dtype, 10 + i, 30 - i, i, { angle: i / 10 }), { stream: 'run-7' });
    await sender.end({ stream: 'run-7', frames: DTYPES.length });
    const result = await python.done;
    assert.equal(result.code, 0, result.stderr);
    const summary = JSON.parse(result.stdout) as {
      frames: number;
      errors: string[];
      dtypes: string[];
      metadata: Record<string, unknown>[];
    };
    assert.deepEqual(summary.errors, []);
    assert.equal(summary.frames, DTYPES.length);
    assert.deepEqual(summary.dtypes, DTYPES);
    summary.metadata.forEach((m, i) => {
      assert.equal(m.frameNumber, i);
      assert.equal(m.angle, i / 10);
      assert.equal(m.version, 1);
      assert.equal(m.stream, 'run-7', 'Python Concert sees the stream id as one more header key');
    });
  });
});
