import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeFrame, q, type Frame } from '../../../../core/index.js';
import { Acquisition, Experiment } from '../../../../experiments/index.js';
import { OnlineReconstruction } from '../../../../addons/local/index.js';
import { phantomProjection, sheppLogan } from '../../../../reco/index.js';
import { DirectoryWalker, readTiff } from '../../../../walkers/index.js';

const W = 128;
const ROWS = 4;
const N = 128;
const MU = 0.02; // attenuation per phantom unit per pixel
const DARK = 100;
const FLAT = 1100;

function constant(value: number, n: number) {
  return async function* (): AsyncGenerator<Frame> {
    for (let i = 0; i < n; i++) yield makeFrame(new Float32Array(W * ROWS).fill(value), [ROWS, W], { frameNumber: i });
  };
}

/** Transmission projections of the phantom (the same in every row), axis at `center`. */
function projections(center: number) {
  return async function* (): AsyncGenerator<Frame> {
    const line = new Float32Array(W);
    for (let i = 0; i < N; i++) {
      phantomProjection((i * Math.PI) / N, { width: W, center, supersample: 4 }, line);
      const data = new Float32Array(W * ROWS);
      for (let r = 0; r < ROWS; r++)
        for (let c = 0; c < W; c++) data[r * W + c] = DARK + (FLAT - DARK) * Math.exp(-MU * line[c]!);
      yield makeFrame(data, [ROWS, W], { frameNumber: i });
    }
  };
}

function rmse(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i]! - b[i]!) ** 2;
  return Math.sqrt(s / a.length);
}

describe('addons/local/online-reconstruction', function () {
  this.timeout(30_000);
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'concert-reco-'));
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  async function experiment(center: number) {
    const walker = await DirectoryWalker.create({ root });
    const exp = await Experiment.create(
      [
        await Acquisition.create('darks', constant(DARK, 3)),
        await Acquisition.create('flats', constant(FLAT, 3)),
        await Acquisition.create('radios', projections(center), { frames: N }),
      ],
      { walker },
    );
    const reco = await OnlineReconstruction.create(exp, { workers: 1 });
    await reco.setAbsorptivity(true);
    await reco.setRegion([1, 3, 1]);
    return { exp, reco };
  }

  it('reconstructs the phantom while the projections arrive and writes float32 slices', async () => {
    const { exp, reco } = await experiment((W - 1) / 2);
    await exp.run();
    const slices = reco.slices;
    assert.equal(slices.length, 2);
    assert.deepEqual(slices[0]!.shape, [W, W]);
    const truth = sheppLogan(W, W, { supersample: 4 }).map((v) => v * MU);
    const error = rmse(slices[0]!.data, truth);
    console.log(`      RMSE ${error.toExponential(3)} (phantom range 0…${MU}), lag ${reco.lagMs!.toFixed(0)} ms`);
    assert.ok(error < 0.1 * MU, `RMSE ${error} below 10 % of the attenuation`);
    const files = await readdir(join(root, 'scan_0000', 'online-slices'));
    assert.deepEqual(files.sort(), ['slice_0000.tif', 'slice_0001.tif']);
    const [page] = await readTiff(join(root, 'scan_0000', 'online-slices', 'slice_0000.tif'));
    assert.equal(page!.frame.dtype, 'float32');
    assert.deepEqual([...page!.frame.data.slice(0, 50)], [...slices[0]!.data.slice(0, 50)]);
    assert.equal(reco.summary().projections, N);
  });

  it('findAxis finds a shifted center within 0.5 px; rereconstruct uses it', async () => {
    const center = (W - 1) / 2 + 3.3;
    const { exp, reco } = await experiment(center);
    await exp.run();
    const search = await reco.findAxis({ centers: [q('60 px'), q('72 px'), q('1 px')] });
    assert.ok(Math.abs(search.center - center) < 0.5, `found ${search.center}, true ${center}`);
    const before = rmse(
      reco.slices[0]!.data,
      sheppLogan(W, W, { supersample: 4, centerX: (W - 1) / 2 }).map((v) => v * MU),
    );
    const again = await reco.rereconstruct();
    const after = rmse(
      again[0]!.data,
      sheppLogan(W, W, { supersample: 4 }).map((v) => v * MU),
    );
    assert.ok(after < before, `the right center sharpens the slice (${after} < ${before})`);
  });

  it('bad parameters are clear errors', async () => {
    const { reco } = await experiment((W - 1) / 2);
    await assert.rejects(reco.setRegion([3, 1, 1] as never), /reco.region must be \[from, to, step\]/);
    await assert.rejects(reco.setFilter('boxcar' as never), /is not allowed \(allowed: /);
    await assert.rejects(reco.setOverallAngle(q('3 mm')), /wrong unit/);
    await assert.rejects(reco.rereconstruct(), /nothing to rereconstruct yet/);
  });
});
