/**
 * Planning, supervising and protecting a run (issue 18):
 * - the time `experiment.estimate()` takes for a 3000-projection continuous tomography with a
 *   TIFF writer and an online reconstruction (goal < 50 ms), and the estimate's duration error
 *   against the run of a 220-frame tomography (goal within 10 %; bytes: exact);
 * - suspension to safe state and resume on dummies: from the condition turning true to the shutter
 *   closed and the run paused, and from it turning false to the shutter open and frames flowing
 *   (goal ≤ 100 ms each, with a 10 ms polling interval);
 * - CURVE + ZAP allow-list throughput against plain CURVE at 8 MiB frames, measured in turns in
 *   the same run (goal ratio ≥ 0.95).
 *
 * Run: `npx tsx bench/plan.ts` (or `npm run bench -- plan`).
 * @module
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeFrame, q, sleep } from '../core/index.js';
import { ImageWriter, OnlineReconstruction } from '../addons/local/index.js';
import * as cameras from '../devices/cameras/dummy.js';
import * as motors from '../devices/motors/dummy.js';
import * as shutters from '../devices/shutters/dummy.js';
import { synchrotron } from '../experiments/index.js';
import {
  AllowList,
  freePort,
  generateKeyPair,
  tcpEndpoint,
  ZmqReceiver,
  ZmqSender,
  type CurveOptions,
} from '../transport/zmq/index.js';
import { DirectoryWalker } from '../walkers/index.js';
import { printResult } from './result.js';

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function tomography(root: string, numProjections: number, options: { width?: number; frameRate?: number } = {}) {
  const shutter = await shutters.DummyShutter.create();
  const flatMotor = await motors.DummyLinearMotor.create({ motionVelocity: q('10 mm/s') });
  const tomographyMotor = await motors.DummyContinuousRotationMotor.create();
  const width = options.width ?? 256;
  const camera = await cameras.DummyCamera.create({
    width,
    height: 16,
    frameRate: q(options.frameRate ?? 100, 'Hz'),
    phantom: { motor: tomographyMotor, shutter, flatMotor, flatPosition: q('10 mm') },
  });
  const experiment = await synchrotron.ContinuousTomography.create({
    camera,
    shutter,
    flatMotor,
    tomographyMotor,
    radioPosition: q('0 mm'),
    flatPosition: q('10 mm'),
    numDarks: 10,
    numFlats: 10,
    numProjections,
    walker: await DirectoryWalker.create({ root }),
  });
  await ImageWriter.create(experiment, { name: 'writer' });
  const reco = await OnlineReconstruction.create(experiment, { name: 'reco' });
  await reco.setAbsorptivity(true);
  return { experiment, shutter, camera };
}

async function estimateRows(): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), 'concert-bench-plan-'));
  try {
    const { experiment } = await tomography(root, 3000, { width: 2048 });
    for (let i = 0; i < 3; i++) await experiment.estimate(); // warm-up
    const times: number[] = [];
    for (let i = 0; i < 15; i++) {
      const t0 = performance.now();
      await experiment.estimate();
      times.push(performance.now() - t0);
    }
    printResult({
      name: 'estimate: 3000-projection tomography, writer + reconstruction',
      value: median(times),
      unit: 'ms',
      goal: { of: 'value', atMost: 50 },
    });

    // The estimate against the run (the demo session's tomography: 220 frames at 100 Hz).
    const small = await tomography(join(root, 'run'), 200);
    await small.experiment.run(); // warm-up (the first run compiles and loads)
    const errors: number[] = [];
    const bytes: number[] = [];
    for (let i = 0; i < 3; i++) {
      const result = await small.experiment.run();
      errors.push(Math.abs(result.errors!.durationError));
      bytes.push(Math.abs(result.errors!.bytesError.writer ?? Infinity));
    }
    printResult({
      name: 'estimate vs run: |duration error| (220-frame tomography)',
      value: median(errors),
      unit: '',
      goal: { of: 'value', atMost: 0.1 },
    });
    printResult({
      name: 'estimate vs run: |TIFF bytes error|',
      value: Math.max(...bytes),
      unit: '',
      goal: { of: 'value', atMost: 0 },
    });
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

/** Waits (1 ms polls) until `ready()`; returns when, or throws after `limitMs`. */
async function until(ready: () => boolean, limitMs = 5000): Promise<number> {
  const t0 = performance.now();
  while (!ready()) {
    if (performance.now() - t0 > limitMs) throw new Error('timed out');
    await sleep(1);
  }
  return performance.now();
}

async function suspensionRows(): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), 'concert-bench-suspend-'));
  try {
    const { experiment, shutter } = await tomography(root, 100_000, { width: 64 });
    let beamLost = false;
    experiment.suspendWhen(() => beamLost, { cause: 'bench: beam lost', interval: q('10 ms') });
    const run = experiment.run();
    run.catch(() => undefined);
    await until(() => experiment.acquisitions[2]!.running && shutter.state.current === 'open', 20_000);
    await sleep(200);
    const toSafe: number[] = [];
    const toResume: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t0 = performance.now();
      beamLost = true;
      toSafe.push(
        (await until(() => experiment.state.current === 'paused' && shutter.state.current === 'closed')) - t0,
      );
      await sleep(100);
      const t1 = performance.now();
      beamLost = false;
      toResume.push(
        (await until(() => experiment.state.current === 'running' && shutter.state.current === 'open')) - t1,
      );
      await sleep(150);
    }
    await run.cancel();
    printResult({
      name: 'suspension: condition true → run paused, shutter closed (10 ms polls)',
      value: median(toSafe),
      unit: 'ms',
      goal: { of: 'value', atMost: 100 },
    });
    printResult({
      name: 'resume: condition false → run going, shutter open (no hold-off)',
      value: median(toResume),
      unit: 'ms',
      goal: { of: 'value', atMost: 100 },
    });
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

/** Frames/s of `count` 8 MiB frames from a CURVE sender to a CURVE receiver. */
async function curveThroughput(server: CurveOptions, client: CurveOptions, count: number): Promise<number> {
  const endpoint = tcpEndpoint(await freePort());
  const sender = await ZmqSender.create({ mode: 'push', bind: endpoint, curve: server });
  const receiver = await ZmqReceiver.create({ mode: 'pull', connect: endpoint, curve: client });
  const frame = makeFrame(new Uint16Array(2048 * 2048).fill(7), [2048, 2048]);
  try {
    const received = (async () => {
      let n = 0;
      for await (const _ of receiver.stream()) n++;
      return n;
    })();
    await sender.send(frame); // connection and handshake outside the timing
    const t0 = performance.now();
    for (let i = 1; i < count; i++) await sender.send(frame);
    await sender.end();
    const n = await received;
    if (n !== count) throw new Error(`received ${n} of ${count} frames`);
    return (count - 1) / ((performance.now() - t0) / 1000);
  } finally {
    receiver.close();
    await sender.close();
  }
}

async function curveRows(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'concert-bench-zap-'));
  try {
    const serverPair = generateKeyPair();
    const clientPair = generateKeyPair();
    await writeFile(join(dir, 'client.key'), clientPair.publicKey);
    const allow = await AllowList.open(dir, 'bench sender');
    const client: CurveOptions = {
      curveServerKey: serverPair.publicKey,
      curvePublicKey: clientPair.publicKey,
      curveSecretKey: clientPair.secretKey,
    };
    const plain: CurveOptions = { curveServer: true, curveSecretKey: serverPair.secretKey };
    const zap: CurveOptions = { ...plain, allow };
    const withZap: number[] = [];
    const without: number[] = [];
    // ABBA turns, so a drift of the machine's load during the rounds favours neither.
    for (let round = 0; round < 6; round++) {
      if (round % 2 === 0) {
        without.push(await curveThroughput(plain, client, 40));
        withZap.push(await curveThroughput(zap, client, 40));
      } else {
        withZap.push(await curveThroughput(zap, client, 40));
        without.push(await curveThroughput(plain, client, 40));
      }
    }
    allow.close();
    printResult({
      name: 'CURVE + ZAP allow-list, 8 MiB frames',
      value: median(withZap),
      unit: 'frames/s',
      baseline: median(without),
      baselineName: 'plain CURVE (same run)',
      goal: { of: 'ratio', atLeast: 0.95 },
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await estimateRows();
await suspensionRows();
await curveRows();
process.exit(0);
