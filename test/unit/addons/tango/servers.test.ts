/**
 * `concert tango walker|benchmarker|reco` driven through our Tango client and through PyTango,
 * fed by a ZeroMQ sender in Concert's wire format (as a camera sends).
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeFrame } from '../../../../core/index.js';
import { startTangoServer } from '../../../../addons/tango/server/serve.js';
import { DeviceProxy, TangoType } from '../../../../tango/index.js';
import type { DeviceServer } from '../../../../tango/server/index.js';
import { freePort, tcpEndpoint, ZmqSender } from '../../../../transport/zmq/index.js';
import { readTiff } from '../../../../walkers/index.js';
import { pyTangoAvailable } from '../../tango/pytango-server.js';
import { captureLog } from '../../../support/log.js';

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

function python(script: string, args: string[], timeoutMs = 60000): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile('/usr/bin/python3', [script, ...args], { timeout: timeoutMs }, (err, out, errOut) =>
      err ? reject(new Error(`${script} failed: ${err.message}\n${errOut.slice(-2000)}`)) : resolve(out),
    ),
  );
}

/** Sends `n` 16×24 uint16 frames (pixel 0 = frame number) and the end marker. */
async function send(sender: ZmqSender, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const data = new Uint16Array(16 * 24).fill(i * 10);
    data[0] = i;
    await sender.send(makeFrame(data, [16, 24], { frameNumber: i }));
  }
  await sender.end();
}

describe('concert tango walker|benchmarker|reco (our client, PyTango)', function () {
  this.timeout(120_000);
  let root: string;
  const cleanup: Array<() => unknown> = [];

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'concert-tango-servers-'));
  });
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await Promise.resolve(c()).catch(() => undefined);
    await rm(root, { recursive: true, force: true });
  });

  async function serve(kind: string, options: { idleTimeoutMs?: number; allowAddresses?: string[] } = {}) {
    const server: DeviceServer = await startTangoServer(kind, { port: 0, root, ...options });
    cleanup.push(() => server.stop());
    const device = await DeviceProxy.create(server.url(`concert/tango/${kind}`), { timeoutMs: 10_000 });
    cleanup.push(() => device.close());
    const data = tcpEndpoint(await freePort());
    const sender = await ZmqSender.create({ mode: 'push', bind: data });
    cleanup.push(() => sender.close());
    await device.writeAttribute('endpoint', data);
    return { server, device, sender, data };
  }

  it("walker: Python Concert's interface; a sequence written as TIFFs, logs and JSON through the device", async () => {
    const { device, sender } = await serve('walker');
    const attributes = await device.attributeList();
    for (const a of ['root', 'current', 'writer_class', 'dsetname', 'bytes_per_file', 'start_index', 'endpoint'])
      assert.ok(attributes.includes(a), `attribute ${a}`);
    const commands = (await device.commandList()).map((c) => c.name);
    for (const c of [
      'descend',
      'ascend',
      'exists',
      'write_sequence',
      'register_logger',
      'deregister_logger',
      'log',
      'log_to_json',
      'connect_endpoint',
      'disconnect_endpoint',
      'reset_connection',
      'cancel',
    ])
      assert.ok(commands.includes(c), `command ${c}`);
    assert.equal((await device.readAttribute('root')).value, root);
    await device.command('descend', 'scan_0000', TangoType.DevString);
    assert.equal((await device.readAttribute('current')).value, join(root, 'scan_0000'));
    await device.writeAttribute('dsetname', 'frame_{:>06}.tif');
    await device.writeAttribute('bytes_per_file', 0n);
    const written = device.command('write_sequence', 'radios', TangoType.DevString, { timeoutMs: 60_000 });
    await send(sender, 12);
    await written;
    assert.equal(await device.state(), 'STANDBY');
    assert.equal((await device.readAttribute('stream_frames')).value, 12n);
    assert.equal((await device.readAttribute('stream_state')).value, 'done');
    const files = (await readdir(join(root, 'scan_0000', 'radios'))).sort();
    assert.equal(files.length, 12);
    assert.equal(files[0], 'frame_000000.tif');
    for (const [i, f] of files.entries()) {
      const [page] = await readTiff(join(root, 'scan_0000', 'radios', f));
      assert.equal(page!.frame.data[0], i, `${f} holds frame ${i}`);
    }
    assert.equal(await device.command('exists', ['radios', 'frame_000011.tif'], TangoType.DevVarStringArray), true);
    assert.equal(await device.command('exists', ['nope'], TangoType.DevVarStringArray), false);
    const log = (await device.command(
      'register_logger',
      ['x', '20', 'experiment.log'],
      TangoType.DevVarStringArray,
    )) as string;
    assert.equal(log, join(root, 'scan_0000', 'experiment.log'));
    await device.command('log', [log, '20', 'first line'], TangoType.DevVarStringArray);
    await device.command('deregister_logger', log, TangoType.DevString);
    await device.command('log_to_json', ['{"a": 1}', 'experiment.json'], TangoType.DevVarStringArray);
    assert.equal(await readFile(join(root, 'scan_0000', 'experiment.log'), 'utf8'), 'first line\n');
    assert.deepEqual(JSON.parse(await readFile(join(root, 'scan_0000', 'experiment.json'), 'utf8')), { a: 1 });
    await device.command('ascend', undefined, TangoType.DevVoid);
    await assert.rejects(device.command('ascend', undefined, TangoType.DevVoid), /Cannot break out of/);
  });

  it('walker: paths outside --root, a second stream and bad values are refused with DevFailed naming them', async () => {
    const { device, sender } = await serve('walker');
    await assert.rejects(device.writeAttribute('root', '/etc'), /Concert_OutsideRoot.*\/etc is outside/s);
    await assert.rejects(device.command('descend', '../..', TangoType.DevString), /is outside/);
    await assert.rejects(device.writeAttribute('writer_class', 'HDF5Writer'), /writer_class must be one of TiffWriter/);
    await assert.rejects(device.writeAttribute('bytes_per_file', -1n), /bytes_per_file must be >= 0, got -1/);
    await assert.rejects(
      device.command('log_to_json', ['{}', '../x.json'], TangoType.DevVarStringArray),
      /must be a file name without \//,
    );
    await device.command('descend', 'scan', TangoType.DevString);
    const first = device.command('write_sequence', 'a', TangoType.DevString, { timeoutMs: 60_000 });
    first.catch(() => undefined);
    const other = await DeviceProxy.create(device.url, { timeoutMs: 10_000 });
    cleanup.push(() => other.close());
    while ((await other.state()) !== 'RUNNING') await new Promise((r) => setTimeout(r, 10));
    await assert.rejects(
      other.command('write_sequence', 'b', TangoType.DevString),
      /Previous stream 'a' still running/,
    );
    await assert.rejects(other.writeAttribute('endpoint', 'tcp://127.0.0.1:1'), /cannot be set while streaming/);
    await other.command('cancel', undefined, TangoType.DevVoid);
    await assert.rejects(first, /cancelled after 0 frames/);
    assert.equal((await device.readAttribute('stream_state')).value, 'cancelled');
    assert.equal(await device.state(), 'STANDBY', 'cancel returns once the stream has ended');
    // The next stream works (its frames are sent once it runs, as a camera would after write_sequence).
    const next = device.command('write_sequence', 'c', TangoType.DevString, { timeoutMs: 60_000 });
    while ((await other.state()) !== 'RUNNING') await new Promise((r) => setTimeout(r, 10));
    await send(sender, 3);
    await next;
    assert.equal((await readdir(join(root, 'scan', 'c'))).length, 3);
  });

  it('a stream that stops without its end fails after the idle timeout; the device is STANDBY again', async () => {
    const { device, sender } = await serve('benchmarker', { idleTimeoutMs: 400 });
    const timed = device.command('start_timer', 'radios', TangoType.DevString, { timeoutMs: 60_000 });
    await sender.send(makeFrame(new Uint16Array(4), [2, 2]));
    await assert.rejects(timed, /Concert_StreamFailed.*failed after 1 frames.*within 400 ms/s);
    assert.equal(await device.state(), 'STANDBY');
    assert.equal((await device.readAttribute('stream_state')).value, 'failed');
  });

  it('connect_endpoint before every stream, as the addons call it, keeps the connection: no frame of the next stream is lost', async () => {
    const { device, sender } = await serve('benchmarker');
    for (let run = 0; run < 25; run++) {
      await device.command('connect_endpoint', undefined, TangoType.DevVoid);
      const timed = device.command('start_timer', `run${run}`, TangoType.DevString, { timeoutMs: 60_000 });
      await send(sender, 3); // at once, as a camera acquires right after its consumers are prepared
      await timed;
      assert.equal((await device.readAttribute('stream_frames')).value, 3n, `run ${run}`);
    }
  });

  it('after a stream that failed, the next stream gets only its own frames', async () => {
    const { device, sender } = await serve('benchmarker', { idleTimeoutMs: 400 });
    const failed = device.command('start_timer', 'radios', TangoType.DevString, { timeoutMs: 60_000 });
    await sender.send(makeFrame(new Uint16Array(4), [2, 2]));
    await assert.rejects(failed, /Concert_StreamFailed/);
    await device.command('connect_endpoint', undefined, TangoType.DevVoid);
    const timed = device.command('start_timer', 'flats', TangoType.DevString, { timeoutMs: 60_000 });
    await send(sender, 2);
    await timed;
    assert.equal((await device.readAttribute('stream_frames')).value, 2n);
    assert.equal((await device.readAttribute('stream_state')).value, 'done');
  });

  it('--allow-address: event subscribers from other addresses are refused by the ZAP handler and logged', async () => {
    const refused = /refused a client at 127\.0\.0\.1: its address is not among the allowed ones \(10\.11\.12\.13\)/;
    const lines = await captureLog(async (seen) => {
      const { device } = await serve('benchmarker', { allowAddresses: ['10.11.12.13'] });
      const subscription = device.subscribe('State', 'change', { mode: 'zmq' }).subscribe({ error: () => undefined });
      try {
        // The ZAP handshake happens when the subscriber's socket connects; on a loaded machine that can take seconds.
        const deadline = Date.now() + 20_000;
        while (!seen.some((l) => refused.test(l.message)) && Date.now() < deadline) {
          await new Promise((r) => setTimeout(r, 20));
        }
      } finally {
        subscription.unsubscribe();
      }
    }, 'warn');
    assert.ok(
      lines.some((l) => refused.test(l.message)),
      JSON.stringify(lines),
    );
  });

  it('benchmarker: start_timer times a stream, get_duration gives its seconds, reset forgets them', async () => {
    const { device, sender } = await serve('benchmarker');
    const timed = device.command('start_timer', 'radios', TangoType.DevString, { timeoutMs: 60_000 });
    await send(sender, 20);
    await timed;
    const seconds = (await device.command('get_duration', 'radios', TangoType.DevString)) as number;
    assert.ok(seconds > 0 && seconds < 30, `${seconds} s`);
    assert.ok(((await device.readAttribute('last_throughput')).value as number) > 0);
    await assert.rejects(
      device.command('get_duration', 'flats', TangoType.DevString),
      /KeyError.*no duration of 'flats' \(timed: radios\)/s,
    );
    await device.command('reset', undefined, TangoType.DevVoid);
    await assert.rejects(device.command('get_duration', 'radios', TangoType.DevString), /timed: none/);
  });

  it('reco: darks, flats and radios streamed in, slices reconstructed and written, fetched by get_slice_z', async () => {
    const { device, sender } = await serve('reco');
    const width = 32;
    const height = 4;
    const sendFrames = async (n: number, value: (i: number, x: number) => number) => {
      for (let i = 0; i < n; i++) {
        const data = new Float32Array(width * height);
        for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data[y * width + x] = value(i, x);
        await sender.send(makeFrame(data, [height, width], { frameNumber: i }));
      }
      await sender.end();
    };
    let call = device.command('update_darks', undefined, TangoType.DevVoid, { timeoutMs: 60_000 });
    await sendFrames(2, () => 0);
    await call;
    call = device.command('update_flats', undefined, TangoType.DevVoid, { timeoutMs: 60_000 });
    await sendFrames(2, () => 1);
    await call;
    await device.writeAttribute('number', 36n);
    await device.writeAttribute('region', [0, 2, 1]);
    await device.writeAttribute('absorptivity', true);
    await device.writeAttribute('center_position_x', [16]);
    await assert.rejects(device.writeAttribute('projection_filter', 'shepp-magic'), /projection_filter must be one of/);
    call = device.command('reconstruct', 'scan/online-slices', TangoType.DevString, { timeoutMs: 60_000 });
    // A small disc in the middle: every projection shows the same bump around x = 16.
    await sendFrames(36, (_i, x) => Math.exp(-(Math.abs(x - 16) < 3 ? 0.5 : 0)));
    await call;
    const shape = Array.from((await device.command('get_volume_shape')) as BigInt64Array, Number);
    assert.deepEqual(shape, [2, width, width]);
    const slice = (await device.command('get_slice_z', 0n, TangoType.DevLong64)) as Float32Array;
    assert.equal(slice.length, width * width);
    const centre = slice[16 * width + 16]!;
    const corner = slice[2 * width + 2]!;
    assert.ok(centre > corner + 0.01, `the disc is brighter in the middle (${centre}) than outside (${corner})`);
    const files = await readdir(join(root, 'scan', 'online-slices'));
    assert.equal(files.length, 2);
    await assert.rejects(device.command('get_slice_z', 5n, TangoType.DevLong64), /z index 5 is out of \[0, 1\]/);
    await device.command('rereconstruct', '', TangoType.DevString, { timeoutMs: 60_000 });
    const params = (await device.command('get_parameters')) as string[];
    assert.ok(params.includes('center_position_x') && params.includes('overall_angle'));
  });

  it('PyTango drives the walker and the benchmarker (its types: DevString, DevLong64, DevVarStringArray, DevFailed)', async function () {
    if (!pyTangoAvailable()) {
      console.log('      skipping: python3-tango is not installed');
      this.skip();
    }
    const walker = await serve('walker');
    const bench = await serve('benchmarker');
    const script = python(fixture('pytango_concert_servers.py'), [
      walker.server.url('concert/tango/walker'),
      bench.server.url('concert/tango/benchmarker'),
      root,
    ]);
    // The script starts a sequence and a timer, then waits for the stream.
    while ((await walker.device.state()) !== 'RUNNING') await new Promise((r) => setTimeout(r, 20));
    await send(walker.sender, 5);
    while ((await bench.device.state()) !== 'RUNNING') await new Promise((r) => setTimeout(r, 20));
    await send(bench.sender, 7);
    const out = JSON.parse((await script).trim().split('\n').pop()!) as Record<string, unknown>;
    assert.deepEqual(out['errors'], []);
    assert.equal(out['frames'], 5);
    assert.ok((out['duration'] as number) > 0);
    assert.equal(out['outside'], 'Concert_OutsideRoot');
    assert.deepEqual((await readdir(join(root, 'py', 'seq'))).length, 5);
  });

  it('the CLI: `concert tango` lists the servers; `concert tango walker --port 0` serves until SIGTERM', async () => {
    const bin = fileURLToPath(new URL('../../../../bin/concert', import.meta.url));
    const list = await new Promise<string>((resolve, reject) =>
      execFile(process.execPath, [bin, 'tango'], { timeout: 60_000 }, (e, out) => (e ? reject(e) : resolve(out))),
    );
    assert.match(list, /walker .*TIFF/);
    assert.match(list, /benchmarker/);
    await assert.rejects(
      new Promise((resolve, reject) =>
        execFile(process.execPath, [bin, 'tango', 'nope'], { timeout: 60_000 }, (e, out) =>
          e ? reject(e) : resolve(out),
        ),
      ),
      /unknown Tango server 'nope' \(available: walker, benchmarker, reco\)/,
    );
    const child = spawn(process.execPath, [bin, 'tango', 'walker', '--port', '0', '--root', root, '--no-database'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    cleanup.push(() => child.kill('SIGKILL'));
    let out = '';
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /walker Tango server: (tango:\S+)/.exec(out);
        if (m) resolve(m[1]!);
      });
      child.once('exit', (code) => reject(new Error(`exited ${code}: ${out}`)));
    });
    const device = await DeviceProxy.create(url, { timeoutMs: 10_000 });
    assert.equal((await device.readAttribute('root')).value, root);
    await device.close();
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    assert.equal(await exited, 0);
    assert.match(out, /SIGTERM, shutting down/);
  });
});
