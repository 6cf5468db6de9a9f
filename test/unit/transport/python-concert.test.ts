/**
 * Interop with Python Concert itself (concert.networking.base ZmqSender/ZmqReceiver from the
 * snapshot in ../shared/anchors/python-concert): our stream ids and frame counts are extra
 * header keys Concert ignores; Concert's untagged streams are taken by our receivers reading a
 * stream id.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeFrame } from '../../../core/frame.js';
import { freePort, tcpEndpoint, ZmqReceiver, ZmqSender } from '../../../transport/index.js';
import { Closer } from './helpers.js';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '..', '..', '..');

/** `../shared/anchors/python-concert` of this repository (or of the main checkout of a worktree). */
function anchors(): string | undefined {
  const roots = [repo];
  const common = spawnSync('git', ['rev-parse', '--path-format=absolute', '--git-common-dir'], {
    cwd: repo,
    encoding: 'utf8',
  });
  if (common.status === 0) roots.push(dirname(common.stdout.trim()));
  return roots.map((r) => join(r, '..', 'shared', 'anchors', 'python-concert')).find((p) => existsSync(p));
}

function run(args: string[]): {
  done: Promise<{ code: number | null; stdout: string; stderr: string }>;
  kill(): void;
  stdout(): string;
} {
  const python = join(process.env.CONCERT_VENV ?? '/tmp/concert-venv', 'bin', 'python');
  const child = spawn(python, [join(here, 'python', 'concert_peer.py'), ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((r) =>
    child.on('close', (code) => r({ code, stdout, stderr })),
  );
  return { done, kill: () => child.kill('SIGKILL'), stdout: () => stdout };
}

describe('transport/zmq interop with Python Concert (concert.networking.base)', function () {
  this.timeout(120_000);
  const closer = new Closer();
  afterEach(() => closer.closeAll());
  before(function () {
    const dir = anchors();
    const skip = (reason: string) => {
      console.log(`      skipped: ${reason}`);
      this.skip();
    };
    if (!dir) return skip('../shared/anchors/python-concert is absent');
    const setup = spawnSync('bash', [join(dir, 'setup.sh')], { encoding: 'utf8', timeout: 600_000 });
    if (setup.status !== 0)
      return skip(`Python Concert setup failed: ${(setup.stderr || setup.stdout).trim().split('\n').pop()}`);
  });

  it("Concert's ZmqReceiver takes our stream with stream ids and frame counts", async () => {
    const sender = closer.track(await ZmqSender.create({ mode: 'push', bind: tcpEndpoint() }));
    const python = run(['receive', sender.endpoint]);
    closer.track({ close: python.kill });
    for (let i = 0; i < 5; i++)
      await sender.send(makeFrame(new Uint16Array(24).fill(i), [4, 6], { frameNumber: i }), { stream: 'run-1' });
    await sender.end({ stream: 'run-1', frames: 5 });
    const result = await python.done;
    assert.equal(result.code, 0, result.stderr);
    const summary = JSON.parse(result.stdout) as {
      frames: number;
      metadata: { stream: string; frameNumber: number; sum: number; shape: number[] }[];
    };
    assert.equal(summary.frames, 5);
    summary.metadata.forEach((m, i) =>
      assert.deepEqual(m, { stream: 'run-1', frameNumber: i, sum: 24 * i, shape: [4, 6] }),
    );
  });

  it("our receiver reading a stream id takes Concert's ZmqSender stream (untagged)", async () => {
    const endpoint = tcpEndpoint(await freePort());
    const python = run(['send', endpoint, '4']);
    closer.track({ close: python.kill });
    const receiver = closer.track(await ZmqReceiver.create({ mode: 'pull', connect: endpoint }));
    const sums: number[] = [];
    for await (const frame of receiver.stream({ id: 'run-2', idleTimeoutMs: 60_000 }))
      sums.push((frame.data as Uint16Array).reduce((a, b) => a + b, 0));
    assert.deepEqual(sums, [0, 24, 48, 72]);
    assert.equal(receiver.counters.stray, 0);
    assert.equal((await python.done).code, 0);
  });
});
