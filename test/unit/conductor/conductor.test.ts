/**
 * The Conductor with real camera server processes (`concert serve camera`, spawned the way the
 * CLI serves them) on loopback: record, stop, read back; refused settings; a camera server
 * SIGKILLed mid-acquisition; maxAcquisitionTime enforced by the servers with the conductor
 * SIGKILLed.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnServer, type ServerProcess } from '../../../addons/remote/spawn.js';
import { preciseNow } from '../../../core/clock.js';
import {
  Conductor,
  ConductorError,
  convertRcc,
  rccToToml,
  readAcquisitionData,
  type ConductorEvent,
} from '../../../conductor/index.js';
import type { RecordingStatus, StartResult } from '../../../conductor/protocol.js';
import { ControlClient } from '../../../transport/zmq/index.js';
import { runFfmpeg } from '../../../video/index.js';
import { delay, within } from '../../support/async.js';
import { concertBin, root } from '../session/support.js';

const SERVERS = 8;

describe('Conductor with camera server processes', function () {
  this.timeout(240_000);
  /** The camera servers' --root; recordings go to its `data` folder. */
  let base = '';
  const dataDir = () => join(base, 'data');
  const servers: ServerProcess[] = [];
  const conductors: Conductor[] = [];

  before(async function () {
    this.timeout(180_000);
    base = mkdtempSync(join(tmpdir(), 'concert-conductor-'));
    // half dummy cameras, half FfmpegCameras decoding a video file (looped, scaled to 64×48)
    const clip = join(base, 'clip.mp4');
    await runFfmpeg({
      args: ['-f', 'lavfi', '-i', 'testsrc2=size=80x60:rate=30:duration=2', '-pix_fmt', 'yuv420p', clip],
    });
    servers.push(
      ...(await Promise.all(
        Array.from({ length: SERVERS }, (_, i) =>
          spawnServer(
            'camera',
            {
              width: 64,
              height: 48,
              frameRate: '30',
              simulate: false,
              root: base,
              ...(i >= SERVERS / 2 ? { ffmpeg: clip } : {}),
            },
            150_000,
          ),
        ),
      )),
    );
  });

  after(async () => {
    await Promise.all(conductors.splice(0).map((c) => c.disconnect().catch(() => undefined)));
    await Promise.all(servers.splice(0).map((s) => s.stop()));
    if (base) rmSync(base, { recursive: true, force: true });
  });

  /** A configuration for the servers `indices`, recording into the temporary folder. */
  function config(indices: number[], general: Record<string, unknown> = {}, cameras: Record<string, unknown> = {}) {
    return {
      general: { dataPath: 'data', ...general },
      log: { file: join(base, 'conductor.log'), level: 'debug' },
      control: { timeout: 3 },
      cameras: Object.fromEntries(
        indices.map((i) => [`cam${i}`, { endpoint: servers[i]!.endpoint, frameRate: 30, size: [64, 48], ...cameras }]),
      ),
    };
  }

  async function create(c: ReturnType<typeof config>): Promise<Conductor> {
    const conductor = await Conductor.create({ config: c });
    conductors.push(conductor);
    return conductor;
  }

  async function release(conductor: Conductor): Promise<void> {
    conductors.splice(conductors.indexOf(conductor), 1);
    await conductor.disconnect();
  }

  it(`records 5 s with ${SERVERS} cameras: complete files, consecutive frames, monotonic timestamps, skew`, async () => {
    const conductor = await create(config([...servers.keys()]));
    assert.deepEqual((await conductor.status()).state, 'standby');
    const start = await conductor.startAcquisition({ name: 'colony__first' });
    assert.equal(start.group, 'colony');
    assert.ok(Number.isFinite(start.skewMs) && start.skewMs >= 0, `skew ${start.skewMs}`);
    assert.equal(Object.keys(start.cameras).length, SERVERS);
    // the decomposition of each camera's start, host clock: asked ≤ woke ≤ first exposure ≤ started
    for (const [name, c] of Object.entries(start.cameras)) {
      assert.ok(c.wokeAt! >= c.askedAt, `${name} woke ${(c.askedAt - c.wokeAt!).toFixed(3)} ms before the instant`);
      assert.ok(c.lateMs <= c.wokeAt! - c.askedAt, `${name}: late ${c.lateMs} ms`);
      assert.ok(c.startedAt >= c.wokeAt!, `${name} started before it woke`);
      if (c.firstFrameAt !== undefined && Number(name.slice(3)) < SERVERS / 2)
        // the dummy's first exposure begins as it starts recording, not at a later frame-clock tick
        assert.ok(
          c.firstFrameAt >= c.wokeAt! - 0.001 && c.firstFrameAt <= c.startedAt + 0.001,
          `${name}: first exposure ${(c.firstFrameAt - c.wokeAt!).toFixed(3)} ms after waking, ` +
            `started ${(c.startedAt - c.wokeAt!).toFixed(3)} ms after`,
        );
    }
    await delay(5000);
    const during = await conductor.status();
    assert.equal(during.state, 'recording');
    for (const [name, c] of Object.entries(during.cameras)) assert.ok(c.frames > 0, `${name} recorded frames`);
    const summary = await conductor.stopAcquisition();
    assert.ok(summary.complete, JSON.stringify(summary, null, 1));
    const data = await readAcquisitionData(join(dataDir(), 'colony', 'colony__first'));
    assert.deepEqual(Object.keys(data.cameras).sort(), Object.keys(summary.cameras).sort());
    for (const [name, c] of Object.entries(data.cameras)) {
      assert.equal(c.metadata!.cameraKind, Number(name.slice(3)) >= SERVERS / 2 ? 'FfmpegCamera' : 'DummyCamera', name);
      assert.ok(c.complete, `${name}: ${c.problems.join('; ')}`);
      assert.equal(c.timestamps.length, summary.cameras[name]!.frames, `${name}: frames`);
      assert.ok(c.timestamps.length > 30, `${name}: ${c.timestamps.length} frames in 5 s at 30 Hz`);
      assert.equal(c.storedFrames, c.timestamps.length);
      for (let i = 1; i < c.timestamps.length; i++) {
        assert.equal(c.timestamps[i]!.frame, i);
        assert.ok(c.timestamps[i]!.hostTime >= c.timestamps[i - 1]!.hostTime, `${name}: host time monotonic`);
        assert.ok(c.timestamps[i]!.cameraTime >= c.timestamps[i - 1]!.cameraTime, `${name}: camera time monotonic`);
      }
      const m = c.metadata!;
      assert.equal(m.acquisition, 'colony__first');
      assert.equal(m.camera, name);
      assert.equal(m.complete, true);
      assert.ok(typeof m.startedAt === 'string' && typeof m.stoppedAt === 'string');
      assert.ok((m.versions as Record<string, string>).node);
    }
    // the camera servers' log lines landed in the conductor's log file, tagged with their names
    const log = readFileSync(join(base, 'conductor.log'), 'utf8');
    for (const name of Object.keys(summary.cameras))
      assert.match(log, new RegExp(`\\[${name}\\] recording: ${name}: recording 'colony__first'`));
    assert.match(log, /\[conductor\] acquisition 'colony__first' started on 8 cameras, start skew/);
    await release(conductor);
  });

  it('record() twice in a row: the second records for its whole duration (stale heartbeats of the first ended it at once)', async () => {
    const conductor = await create(config([0, 4]));
    for (const name of ['twice_a', 'twice_b']) {
      const t0 = performance.now();
      const { start, summary } = await conductor.record({ name, durationMs: 1500 });
      const took = performance.now() - t0;
      assert.ok(took >= 1500, `${name}: record() returned after ${took.toFixed(0)} ms of 1500`);
      assert.equal(start.skewFrom, 'firstFrame');
      for (const [camera, c] of Object.entries(summary.cameras))
        assert.ok(c.frames! >= 30, `${name} on ${camera}: ${c.frames} frames in 1.5 s at 30 Hz`);
    }
    await release(conductor);
  });

  it('a camera server answers acquisition.start with when it woke and its first exposure, in µs for a dummy', async () => {
    const client = await ControlClient.create({ connect: servers[0]!.endpoint, timeoutMs: 10_000 });
    try {
      const startAt = preciseNow() + 40; // one host: one clock
      const r = await client.request<StartResult>('acquisition.start', {
        startAt,
        camera: 'cam0',
        acquisitionName: 'direct',
        group: '',
        dataPath: 'data',
        saveData: false,
        format: 'tiff',
        maxAcquisitionTime: 10,
        frameRate: 30,
        triggerSource: 'AUTO',
        settings: {},
      });
      const woke = r.wokeAt!;
      assert.ok(woke >= startAt, `woke ${(startAt - woke).toFixed(3)} ms early`);
      assert.ok(r.lateMs <= woke - startAt, `late ${r.lateMs} ms, woke ${(woke - startAt).toFixed(3)} ms after`);
      assert.ok(
        r.firstFrameAt! >= woke - 0.001 && r.firstFrameAt! <= r.startedAt + 0.001,
        `first exposure ${(r.firstFrameAt! - woke).toFixed(3)} ms after waking, started ${(r.startedAt - woke).toFixed(3)} ms after`,
      );
    } finally {
      await client.request('acquisition.stop');
      client.close();
    }
  });

  it('a setting a camera refuses is reported with the camera name, and nothing starts', async () => {
    const c = config([0, 1]);
    (c.cameras.cam1 as Record<string, unknown>).brightness = 50;
    await assert.rejects(
      Conductor.create({ config: c }),
      (e: unknown) =>
        e instanceof ConductorError &&
        /nothing was started/.test(e.message) &&
        /cameras\.cam1\.brightness: the camera \(\w+\) has no parameter 'brightness'/.test(e.message) &&
        !/cam0/.test(e.message),
    );
    const c2 = config([2], {}, { size: [6400, 48] });
    await assert.rejects(
      Conductor.create({ config: c2 }),
      (e: unknown) => e instanceof ConductorError && /cameras\.cam2\.size: refused by the camera: /.test(e.message),
    );
    for (const i of [0, 1, 2]) assert.notEqual((await statusOf(servers[i]!.endpoint)).state, 'recording');
  });

  it('a second acquisition with the same name is refused on every camera, leaving the first files alone', async () => {
    const conductor = await create(config([0, 1]));
    await conductor.startAcquisition({ name: 'twice' });
    await delay(500);
    const first = await conductor.stopAcquisition();
    assert.ok(first.complete);
    await assert.rejects(
      conductor.startAcquisition({ name: 'twice' }),
      (e: unknown) => e instanceof ConductorError && /already holds files/.test(e.message),
    );
    assert.equal(conductor.state.current, 'standby');
    const data = await readAcquisitionData(join(dataDir(), 'twice'));
    assert.ok(data.complete);
    // and the next acquisition works
    await conductor.startAcquisition({ name: 'twice-again' });
    await delay(300);
    assert.ok((await conductor.stopAcquisition()).complete);
    await release(conductor);
  });

  it('an RCC configuration converted and run', async () => {
    const source = fileURLToPath(new URL('config/rcc/rcc.config', import.meta.url));
    const conversion = await convertRcc(source, {
      endpoints: { top: servers[3]!.endpoint, side: servers[4]!.endpoint },
    });
    const file = join(base, 'rcc.toml');
    writeFileSync(file, rccToToml(conversion, source));
    const conductor = await Conductor.create({ config: file, logFile: join(base, 'rcc.log') });
    conductors.push(conductor);
    assert.deepEqual(conductor.cameras, ['top', 'side']);
    const { start, summary } = await conductor.record({ durationMs: 1500 });
    assert.equal(start.acquisition, '_test_rcc_name_config');
    assert.ok(summary.complete, JSON.stringify(summary));
    const data = await readAcquisitionData(join(dataDir(), '_test_rcc_name_config'));
    assert.ok(data.complete);
    assert.equal((data.cameras.top!.metadata!.settings as { mirror: boolean }).mirror, true);
    assert.equal(data.cameras.top!.metadata!.maxAcquisitionTime, 30);
    await release(conductor);
  });

  it('maxAcquisitionTime 2 ends the recording on every camera with the conductor SIGKILLed', async () => {
    const file = join(base, 'max.json');
    const c = config([3, 4], { maxAcquisitionTime: 2, acquisitionName: 'unattended' });
    c.log.file = join(base, 'max.log');
    writeFileSync(file, JSON.stringify(c));
    const child = spawn(process.execPath, [concertBin, 'conductor', 'run', '--config', file], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    try {
      await within(
        120_000,
        (async () => {
          // killed as soon as its log says every camera started
          while (!/started on 2 cameras/.test(readIfThere(c.log.file))) {
            if (child.exitCode !== null) throw new Error(`the conductor exited (${child.exitCode}):\n${out}`);
            await delay(20);
          }
        })(),
        `the conductor starting:\n${out}`,
      );
    } finally {
      child.kill('SIGKILL');
    }
    const killedAt = performance.now();
    for (const i of [3, 4]) assert.equal((await statusOf(servers[i]!.endpoint)).acquisition, 'unattended');
    for (const i of [3, 4]) {
      const s = await within(
        10_000,
        (async () => {
          for (;;) {
            const status = await statusOf(servers[i]!.endpoint);
            if (status.state === 'done' || status.state === 'failed') return status;
            await delay(100);
          }
        })(),
        `cam${i} ending by itself`,
      );
      assert.equal(s.reason, 'maxAcquisitionTime');
      assert.equal(s.state, 'done');
      assert.ok(s.elapsed >= 1.9 && s.elapsed < 4, `elapsed ${s.elapsed}`);
    }
    assert.ok(performance.now() - killedAt < 10_000);
    const data = await readAcquisitionData(join(dataDir(), 'unattended'));
    for (const [name, cam] of Object.entries(data.cameras)) {
      assert.ok(cam.complete, `${name}: ${cam.problems.join('; ')}`);
      assert.equal(cam.metadata!.reason, 'maxAcquisitionTime');
    }
  });

  it('concert conductor run: Ctrl-C stops every camera cleanly and exits non-zero; concert conductor read', async () => {
    const file = join(base, 'run.toml');
    writeFileSync(
      file,
      [
        '[general]',
        'dataPath = "data"',
        '[log]',
        `file = "${join(base, 'run.log')}"`,
        ...[1, 2].flatMap((i) => [`[cameras.cam${i}]`, `endpoint = "${servers[i]!.endpoint}"`, 'frameRate = 30']),
      ].join('\n'),
    );
    const child = spawn(
      process.execPath,
      [concertBin, 'conductor', 'run', '--config', file, '--acquisition-name', 'ctrl-c'],
      {
        cwd: root,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      await within(
        120_000,
        (async () => {
          while (!/started on 2 cameras/.test(readIfThere(join(base, 'run.log')))) {
            if (child.exitCode !== null) throw new Error(`the conductor exited (${child.exitCode}):\n${out}`);
            await delay(50);
          }
        })(),
        'the conductor starting',
      );
      await delay(1000);
      child.kill('SIGINT');
      assert.equal(await within(60_000, exited, 'the conductor stopping'), 130, out);
    } finally {
      child.kill('SIGKILL');
    }
    assert.match(out, /SIGINT: stopping every camera/);
    assert.match(out, /^camera +state +frames +fps +drops +elapsed$/m, 'the live table');
    assert.match(out, /cam1 +\d+ +\d+ +stopped +2 +yes/);
    for (const i of [1, 2]) assert.equal((await statusOf(servers[i]!.endpoint)).state, 'done');
    const read = spawnSync(process.execPath, [concertBin, 'conductor', 'read', join(dataDir(), 'ctrl-c')], {
      cwd: root,
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(read.status, 0, read.stderr);
    assert.match(read.stdout, /^camera +frames +fps +drops +duration +files +complete$/m);
    assert.match(read.stdout, /^cam2 +\d+ +\d+\.\d +\d+ +\d+\.\d\d s +1 +yes$/m);
  });

  it('records over CURVE: the conductor with the keys of the camera server', async () => {
    const keys = join(base, 'keys');
    const server = await spawnServer(
      'camera',
      { width: 32, height: 16, simulate: false, root: base, curveKeys: keys },
      150_000,
    );
    try {
      const c = config([]);
      (c.cameras as Record<string, unknown>).secure = { endpoint: server.endpoint, frameRate: 30 };
      (c.control as Record<string, unknown>).curveKeys = keys;
      const conductor = await create(c);
      await conductor.startAcquisition({ name: 'curve' });
      await delay(700);
      const summary = await conductor.stopAcquisition();
      assert.ok(summary.complete && (summary.cameras.secure!.frames ?? 0) > 0, JSON.stringify(summary));
      assert.match(
        readFileSync(join(base, 'conductor.log'), 'utf8'),
        /\[secure\] recording: secure: recording 'curve'/,
      );
      await release(conductor);
      // without the keys the camera server does not answer: reported with its name within the timeout
      const plain = config([]);
      (plain.cameras as Record<string, unknown>).secure = { endpoint: server.endpoint };
      plain.control.timeout = 1;
      await assert.rejects(
        Conductor.create({ config: plain }),
        (e: unknown) =>
          e instanceof ConductorError && /cameras\.secure: tcp:\/\/.* got no reply within 1000 ms/.test(e.message),
      );
    } finally {
      await server.stop();
    }
  });

  it('a camera server SIGKILLed mid-acquisition is reported within the timeout; the others complete', async () => {
    const conductor = await create(config([5, 6, 7], {}, {}));
    const lost = new Promise<ConductorEvent & { type: 'cameraLost' }>((resolve) =>
      conductor.onEvent((e) => e.type === 'cameraLost' && resolve(e)),
    );
    await conductor.startAcquisition({ name: 'killed' });
    await delay(1000);
    const killedAt = performance.now();
    servers[7]!.child.kill('SIGKILL');
    const event = await within(10_000, lost, 'the lost camera being reported');
    const after = performance.now() - killedAt;
    assert.equal(event.camera, 'cam7');
    assert.ok(after < 3000 + 1500, `reported after ${after.toFixed(0)} ms (timeout 3000 ms)`);
    assert.match(event.reason, /no heartbeat .* for \d+ ms/);
    assert.equal((await conductor.status()).cameras.cam7!.state, 'lost');
    await delay(500);
    const summary = await conductor.stopAcquisition();
    assert.equal(summary.complete, false);
    assert.ok(summary.cameras.cam7!.lost);
    assert.ok(summary.cameras.cam5!.complete && summary.cameras.cam6!.complete, JSON.stringify(summary));
    const data = await readAcquisitionData(join(dataDir(), 'killed'));
    assert.ok(data.cameras.cam5!.complete && data.cameras.cam6!.complete);
    assert.equal(data.cameras.cam7!.complete, false, 'the killed camera is marked incomplete');
    await release(conductor);
  });

  it("onCameraLost 'stopAll' stops every other camera cleanly", async () => {
    const conductor = await create(config([5, 6], { onCameraLost: 'stopAll' }));
    await conductor.startAcquisition({ name: 'stop-all' });
    await delay(800);
    servers[6]!.child.kill('SIGKILL');
    await within(
      15_000,
      (async () => {
        while (conductor.state.current !== 'standby') await delay(100);
      })(),
      'the conductor stopping every camera',
    );
    assert.equal((await statusOf(servers[5]!.endpoint)).state, 'done');
    const data = await readAcquisitionData(join(dataDir(), 'stop-all'));
    assert.ok(data.cameras.cam5!.complete, data.cameras.cam5!.problems.join('; '));
    await release(conductor);
  });
});

function readIfThere(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

async function statusOf(endpoint: string): Promise<RecordingStatus> {
  const client = await ControlClient.create({ connect: endpoint, timeoutMs: 5000 });
  try {
    return await client.request<RecordingStatus>('acquisition.status');
  } finally {
    client.close();
  }
}
