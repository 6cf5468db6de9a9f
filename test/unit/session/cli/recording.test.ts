/** `concert record` and `concert recording info|video|export` as subprocesses, against a camera server process. */
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { spawnServer } from '../../../../addons/remote/spawn.js';
import { Camera as RemoteCamera } from '../../../../devices/cameras/remote.js';
import { LogWriter } from '../../../../recording/index.js';
import { freePort, tcpEndpoint } from '../../../../transport/index.js';
import { readTiff } from '../../../../walkers/formats/index.js';
import { debianFfmpeg, probe } from '../../video/helpers.js';
import { useTempDir } from '../../walkers/formats/helpers.js';
import { concertAsync } from '../support.js';
import { startRecord } from './record-process.js';

describe('concert record and concert recording', function () {
  this.timeout(90_000);
  const dir = useTempDir();
  const closers: Array<() => unknown> = [];
  afterEach(async () => {
    for (const c of closers.splice(0).reverse()) await Promise.resolve(c()).catch(() => undefined);
  });

  it('records a camera server stream until its end, then info, video and export work on the recording', async function () {
    debianFfmpeg(this);
    const server = await spawnServer('camera', { width: 40, height: 30, frameRate: 100 });
    closers.push(() => server.stop('SIGKILL'));
    const camera = await RemoteCamera.create({ name: 'camera', endpoint: server.endpoint });
    closers.push(() => camera.disconnect());
    const endpoint = tcpEndpoint(await freePort());
    await camera.registerEndpoint(endpoint, { mode: 'push' });
    const log = join(dir.path, 'run1.clog');
    const recording = startRecord([endpoint, log, '--until-end', '--duration', '60s']);
    await recording.ready;
    await camera.startRecording();
    await camera.grabSend(25);
    const r = await recording.done;
    assert.equal(r.status, 0, r.stderr);
    assert.match(
      r.stdout,
      new RegExp(
        `^recording ${endpoint.replace(/\./g, '\\.')} \\(pull\\) to .*run1\\.clog until 60s or the end of the ` +
          `stream\\nrecorded 25 frames \\(26 records`,
      ),
    );

    const info = await concertAsync(dir.path, ['recording', 'info', log]);
    assert.equal(info.status, 0, info.stderr);
    assert.match(info.stdout, /records {5}26 \(25 frames, 1 stream ends\)/);
    assert.match(info.stdout, /frames {6}40x30 uint16/);
    assert.match(info.stdout, /frame rate {2}\d+(\.\d+)? fps \(measured from receive times\)/);
    assert.match(info.stdout, /ending {6}complete \(closed cleanly\)/);
    assert.match(info.stdout, /source {6}zmq tcp:\/\//);

    const out = join(dir.path, 'run1.mp4');
    const video = await concertAsync(dir.path, ['recording', 'video', log, out], { timeoutMs: 40_000 });
    assert.equal(video.status, 0, video.stderr);
    const probed = await probe(out);
    assert.deepEqual(
      [probed.codec, probed.pixFmt, probed.frames, probed.width, probed.height],
      ['h264', 'yuv420p', 25, 40, 30],
    );
    assert.ok(probed.fps > 20 && probed.fps < 200, `fps from the receive times: ${probed.fps}`);
    const fixed = await concertAsync(dir.path, ['recording', 'video', log, join(dir.path, 'fixed.mp4'), '--fps', '12']);
    assert.equal(fixed.status, 0, fixed.stderr);
    assert.equal((await probe(join(dir.path, 'fixed.mp4'))).fps, 12);

    const exported = await concertAsync(dir.path, ['recording', 'export', log, join(dir.path, 'tiffs')]);
    assert.equal(exported.status, 0, exported.stderr);
    const files = (await readdir(join(dir.path, 'tiffs'))).sort();
    assert.equal(files.length, 25);
    const [page] = await readTiff(join(dir.path, 'tiffs', files[3]!));
    assert.deepEqual(page!.frame.shape, [30, 40]);
    assert.equal(page!.frame.metadata.frameNumber, 3);
  });

  it('stops at --duration; video of a log without frames says so', async () => {
    const endpoint = tcpEndpoint(await freePort());
    const log = join(dir.path, 'empty.clog');
    const r = await concertAsync(dir.path, ['record', endpoint, log, '--duration', '300ms']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /recorded 0 frames \(0 records/);
    const video = await concertAsync(dir.path, ['recording', 'video', log, join(dir.path, 'x.mp4')]);
    assert.equal(video.status, 1);
    assert.match(video.stderr, /^Sorry, no frames in .*empty\.clog$/m);
    const ws = join(dir.path, 'ws.clog');
    const writer = await LogWriter.create(ws, { source: { kind: 'websocket', description: 'ws://x' } });
    await writer.writeMessage('hello');
    await writer.close();
    const info = await concertAsync(dir.path, ['recording', 'info', ws]);
    assert.match(info.stdout, /records {5}1 \(0 frames, 0 stream ends, 1 text and 0 binary messages\)/);
    const bad = await concertAsync(dir.path, ['record', endpoint, log, '--duration', 'soon']);
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /--duration must be like 10s, 500ms, 2m or 1h, got 'soon'/);
  });
});
