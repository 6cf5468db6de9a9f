/**
 * Issue 10, remote half: the run after a failure. Each test is a reproduction from the issue,
 * against real server processes over tcp loopback.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { errorMessage, sleep } from '../../core/index.js';
import { ServerClient } from '../../addons/remote/index.js';
import { RemoteRig, verifyRun, verifyScan, writingInto, type Fault } from '../support/remote-rig.js';

describe('issue 10: the run after a failure (remote path)', function () {
  this.timeout(60_000);
  let root: string;
  let rig: RemoteRig | undefined;

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'concert-issue10-'));
  });
  afterEach(async () => {
    await rig?.close();
    rig = undefined;
    await rm(root, { recursive: true, force: true });
  });

  async function resetCamera(r: RemoteRig): Promise<void> {
    if ((await r.camera.getState()) !== 'standby') await r.camera.reset();
  }

  it('1. frames of a failed stream never land in the next run: the disk fails mid-stream in run 0', async () => {
    rig = await RemoteRig.create({ root, frames: 400, frameRate: 200 });
    const run0 = rig.exp.run();
    await writingInto(join(root, 'scan_0000', 'radios'), 20_000);
    await sleep(200);
    await rename(join(root, 'scan_0000', 'radios'), join(root, 'scan_0000', 'radios.moved'));
    await writeFile(join(root, 'scan_0000', 'radios'), 'not a directory');
    await assert.rejects(run0, /failed stream 'radios': StorageError: .*(ENOTDIR|ENOENT)/);
    await resetCamera(rig);
    const result = await rig.exp.run().catch((e) => {
      throw new Error(`${errorMessage(e)}\n${rig!.output()}`);
    });
    assert.equal(result.acquisitions.radios!.frames, 400);
    const scan = await verifyScan(root, 'scan_0001');
    assert.equal(scan.files, 400, 'run 1 wrote its 400 frames');
    assert.ok(scan.consecutive, 'frame numbers 0…399: no frame of run 0 among them');
    assert.equal(scan.streams.length, 1, `one stream in scan_0001 (got ${scan.streams.join(', ')})`);
  });

  it('4. after a killed writer server the walker recovers, and a run started right after the restart works in its own scan', async () => {
    rig = await RemoteRig.create({ root, frames: 100_000, frameRate: 200 });
    const run0 = rig.exp.run();
    await sleep(600);
    await rig.kill('writer');
    await assert.rejects(run0, new RegExp(rig.endpoint('writer').replace(/[.*]/g, '\\$&')));
    // called once a second while the server is down: refused at once, naming the server
    for (let i = 0; i < 3; i++) {
      const t = performance.now();
      await assert.rejects(rig.walker.exists('x'), /is not answering|no reply/);
      assert.ok(performance.now() - t < 1000, 'fails fast');
      await sleep(1000);
    }
    // found away just before the restart: a plain call would still fail fast for a second
    await assert.rejects(rig.walker.exists('x'), /is not answering|no reply/);
    await rig.restart('writer');
    // the next run starts at once (the fault matrix's next run failed with the stale error in 4 of 8
    // runs when the restart took under a second): a new run asks the server again
    await resetCamera(rig);
    rig.frames = 20;
    const result = await rig.exp.run().catch((e) => {
      throw new Error(`${errorMessage(e)}\n${rig!.output()}`);
    });
    assert.equal(result.directory, 'scan_0001');
    const scan = await verifyScan(root, 'scan_0001');
    assert.deepEqual([scan.files, scan.consecutive, scan.streams.length], [20, true, 1]);
    assert.deepEqual(
      (await readdir(join(root, 'scan_0000'))).filter((f) => f.startsWith('scan_')),
      [],
      'nothing nested',
    );
  });

  it("6. walker.configure cannot move the root outside the server's --root", async () => {
    rig = await RemoteRig.create({ root });
    const client = await ServerClient.create(rig.endpoint('writer'));
    try {
      for (const bad of ['/etc', '..', '../..', join(root, '..')])
        await assert.rejects(
          client.request('walker.configure', { root: bad }),
          /is outside the server's root .* \(--root\)/,
          bad,
        );
      const inside = await client.request<{ root: string }>('walker.configure', { root: 'sub' });
      assert.equal(inside.root, join(root, 'sub'));
    } finally {
      client.close();
    }
  });
});

describe('issue 10: one instance of each fault of the matrix (bench/remote-faults.ts runs them 50×)', function () {
  this.timeout(180_000);
  let root: string;
  let rig: RemoteRig | undefined;
  const seen = new Set<string>();
  const expected = { darks: 3, flats: 3, radios: 20 };

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'concert-issue10-matrix-'));
    rig = await RemoteRig.create({
      root,
      frameRate: 400,
      width: 64,
      height: 16,
      live: true,
      benchmarker: true,
      reco: true,
    });
  });
  after(async () => {
    await rig?.close();
    await rm(root, { recursive: true, force: true });
  });

  const faults: [Fault, string][] = [
    ['live', 'the live server killed and restarted'],
    ['benchmarker', 'the benchmarker server killed and restarted'],
    ['reco', 'the reco server killed and restarted'],
    ['camera', 'the camera server killed and restarted'],
    ['cancel', 'a cancel'],
  ];
  for (const [fault, what] of faults)
    it(`after ${what} mid-stream, the next run writes exactly its own frames into its own scan`, async () => {
      await rig!.faultedRun(fault, 600, fault === 'cancel' ? 400 : 700);
      rig!.frames = expected.radios;
      await rig!.resetCamera();
      const result = await rig!.exp.run().catch((e) => {
        throw new Error(`the run after ${what} failed: ${errorMessage(e)}\n${rig!.output()}`);
      });
      const check = await verifyRun(root, result.directory!, expected, seen);
      assert.deepEqual(check.problems, []);
      assert.equal(check.misplaced, 0);
    });
});
