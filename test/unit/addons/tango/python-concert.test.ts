/**
 * Python Concert and our Tango servers, both ways: Python Concert (installed by
 * ../shared/anchors/python-concert/setup.sh) runs the source document's remote experiment against
 * our `concert tango walker` and `benchmarker`; our session drives Python Concert's own
 * `concert tango walker` and `benchmarker` servers. Files are checked with tifffile.
 */
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RemoteCamera } from '../../../../devices/cameras/remote.js';
import { Experiment, remoteAcquisition } from '../../../../experiments/index.js';
import { spawnServer, type ServerProcess } from '../../../../addons/remote/spawn.js';
import { Benchmarker, ImageWriter, RemoteDirectoryWalker } from '../../../../addons/tango/index.js';
import { DeviceProxy } from '../../../../tango/index.js';
import { freePort, tcpEndpoint } from '../../../../transport/zmq/index.js';
import { requirePythonConcert } from '../../../support/python-concert.js';

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
const bin = fileURLToPath(new URL('../../../../bin/concert', import.meta.url));

function run(command: string, args: string[], timeoutMs = 120_000): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile(command, args, { timeout: timeoutMs, cwd: tmpdir() }, (err, out, errOut) =>
      err ? reject(new Error(`${command} ${args[0]} failed: ${err.message}\n${errOut.slice(-3000)}`)) : resolve(out),
    ),
  );
}

/** Starts a `concert tango KIND --port P` process and waits until it accepts requests. */
async function tangoServer(command: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<ChildProcess> {
  const child = spawn(command, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    cwd: tmpdir(),
    env: { ...process.env, ...env },
  });
  let out = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${args.join(' ')} did not start in 60 s: ${out}`)), 60_000);
    const take = (d: Buffer) => {
      out += d.toString();
      if (/Ready to accept request/.test(out)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', take);
    child.stderr!.on('data', take);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${args.join(' ')} exited with ${code}: ${out}`));
    });
  });
  return child;
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const t = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(t);
}

describe('Python Concert and our Tango servers (both ways)', function () {
  this.timeout(300_000);
  let root: string;
  const children: ChildProcess[] = [];
  const closers: Array<() => unknown> = [];
  let cameraServer: ServerProcess | undefined;

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'concert-tango-pc-'));
  });
  afterEach(async () => {
    for (const c of closers.splice(0).reverse()) await Promise.resolve(c()).catch(() => undefined);
    await Promise.all(children.splice(0).map(stop));
    await cameraServer?.stop('SIGKILL');
    cameraServer = undefined;
    await rm(root, { recursive: true, force: true });
  });

  it("Python Concert's remote experiment (RemoteDirectoryWalker, Tango ImageWriter, Benchmarker) against our servers", async function () {
    const { python } = requirePythonConcert(this);
    const [walkerPort, benchPort, writerData, benchData] = await Promise.all([
      freePort(),
      freePort(),
      freePort(),
      freePort(),
    ]);
    children.push(
      await tangoServer(process.execPath, [
        bin,
        'tango',
        'walker',
        '--port',
        String(walkerPort),
        '--root',
        root,
        '--no-database',
      ]),
    );
    children.push(
      await tangoServer(process.execPath, [bin, 'tango', 'benchmarker', '--port', String(benchPort), '--no-database']),
    );
    const walkerUrl = `127.0.0.1:${walkerPort}/concert/tango/walker#dbase=no`;
    const benchUrl = `127.0.0.1:${benchPort}/concert/tango/benchmarker#dbase=no`;
    const out = await run(python, [
      fixture('python_concert_remote.py'),
      walkerUrl,
      benchUrl,
      join(root, 'remote'),
      '10',
      String(writerData),
      String(benchData),
    ]);
    const result = JSON.parse(out.trim().split('\n').pop()!) as { durations: Record<string, number>; root: string };
    assert.equal(result.root, join(root, 'remote'));
    for (const name of ['darks', 'flats', 'radios']) assert.ok(result.durations[name]! > 0, `${name} timed`);
    const files = JSON.parse(await run('/usr/bin/python3', [fixture('tiff_check.py'), join(root, 'remote')])) as Record<
      string,
      [number, number[], string]
    >;
    for (const name of ['darks', 'flats', 'radios']) {
      const entry = files[`scan_0000/${name}`];
      assert.ok(entry, `tifffile found scan_0000/${name} (found: ${Object.keys(files).join(', ')})`);
      assert.equal(entry[0], 10, `${name}: 10 files`);
      assert.equal(entry[1].length, 2);
    }
    // Its metadata, written through our walker's log_to_json (its INFO log lines stay below
    // Python's default WARNING level, so experiment.log is registered but empty).
    const start = JSON.parse(
      await readFile(join(root, 'remote', 'scan_0000', 'experiment_start.json'), 'utf8'),
    ) as object;
    assert.equal(typeof start, 'object');
  });

  it("our session drives Python Concert's own `concert tango walker` and `benchmarker`", async function () {
    const { concert } = requirePythonConcert(this);
    const [walkerPort, benchPort] = await Promise.all([freePort(), freePort()]);
    const env = { HOME: root };
    children.push(await tangoServer(concert, ['tango', 'walker', '--port', String(walkerPort)], env));
    children.push(await tangoServer(concert, ['tango', 'benchmarker', '--port', String(benchPort)], env));
    cameraServer = await spawnServer('camera', { width: 32, height: 8, frameRate: 1000 });
    const camera = await RemoteCamera.create({ name: 'camera', endpoint: cameraServer.endpoint });
    closers.push(() => camera.disconnect());
    const walkerDevice = await DeviceProxy.create(`tango://127.0.0.1:${walkerPort}/concert/tango/walker#dbase=no`);
    closers.push(() => walkerDevice.close());
    const walker = await RemoteDirectoryWalker.create({ device: walkerDevice, root: join(root, 'ours') });
    closers.push(() => walker.close());
    const acquisitions = await Promise.all(
      ['darks', 'flats', 'radios'].map((name) => remoteAcquisition(name, camera, name === 'radios' ? 12 : 2)),
    );
    const exp = await Experiment.create(acquisitions, { walker });
    const writer = await ImageWriter.create(exp, { data: tcpEndpoint(await freePort()), camera });
    closers.push(() => writer.close());
    const bench = await Benchmarker.create(exp, {
      device: `tango://127.0.0.1:${benchPort}/concert/tango/benchmarker#dbase=no`,
      data: tcpEndpoint(await freePort()),
      camera,
    });
    closers.push(() => bench.close());
    const result = await exp.run();
    assert.equal(result.acquisitions.radios!.frames, 12);
    const durations = await bench.durations();
    assert.deepEqual(Object.keys(durations).sort(), ['darks', 'flats', 'radios']);
    const files = JSON.parse(await run('/usr/bin/python3', [fixture('tiff_check.py'), join(root, 'ours')])) as Record<
      string,
      [number, number[], string]
    >;
    assert.deepEqual(files['scan_0000/radios'], [12, [8, 32], 'uint16']);
    assert.deepEqual(files['scan_0000/darks'], [2, [8, 32], 'uint16']);
    const log = await readFile(join(root, 'ours', 'scan_0000', 'experiment.log'), 'utf8');
    assert.match(log, /run \d+ started/, "our experiment log, written by Python Concert's walker");
  });
});
