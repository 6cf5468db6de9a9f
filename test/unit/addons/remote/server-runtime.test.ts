import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  RECEIVER_MALLOC_TUNABLES,
  receiverEnv,
  receivesFrames,
  spawnServer,
  type ServerProcess,
} from '../../../../addons/remote/index.js';

/** The command line and environment of a running process, from /proc. */
function processOf(pid: number): { argv: string[]; env: Map<string, string> } {
  const split = (file: string) => readFileSync(`/proc/${pid}/${file}`, 'utf8').split('\0').filter(Boolean);
  const env = new Map(split('environ').map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
  return { argv: split('cmdline'), env };
}

describe('addons/remote/server-runtime: how frame-receiving servers are started', () => {
  const servers: ServerProcess[] = [];
  after(async () => {
    for (const s of servers) await s.stop();
  });

  it('a writer server runs with the single-threaded GC and the malloc tunables; a camera server with the defaults', async function () {
    this.timeout(120_000);
    const [writer, camera] = await Promise.all([spawnServer('writer'), spawnServer('camera')]);
    servers.push(writer, camera);
    const w = processOf(writer.child.pid!);
    assert.ok(w.argv.includes('--single-threaded-gc'), w.argv.join(' '));
    // glibc (before 2.39) parses the tunables from a copy and writes a NUL after the first value
    // into the environment itself, so /proc shows the first tunable only; each one is applied.
    const first = RECEIVER_MALLOC_TUNABLES.split(':')[0]!;
    assert.ok(RECEIVER_MALLOC_TUNABLES.startsWith(w.env.get('GLIBC_TUNABLES') ?? '-'), w.env.get('GLIBC_TUNABLES'));
    assert.ok(w.env.get('GLIBC_TUNABLES')!.startsWith(first), w.env.get('GLIBC_TUNABLES'));
    const c = processOf(camera.child.pid!);
    assert.ok(!c.argv.includes('--single-threaded-gc'), c.argv.join(' '));
    assert.equal(c.env.get('GLIBC_TUNABLES'), process.env.GLIBC_TUNABLES);
  });

  it("keeps the user's own GLIBC_TUNABLES, after ours so that they win", () => {
    const env = receiverEnv({ GLIBC_TUNABLES: 'glibc.malloc.arena_max=2', PATH: '/bin' });
    assert.equal(env.GLIBC_TUNABLES, `${RECEIVER_MALLOC_TUNABLES}:glibc.malloc.arena_max=2`);
    assert.equal(env.PATH, '/bin');
  });

  it('every server kind but the camera receives frames', () => {
    for (const kind of ['writer', 'live', 'benchmarker', 'reco']) assert.ok(receivesFrames(kind), kind);
    assert.ok(!receivesFrames('camera'));
  });
});
