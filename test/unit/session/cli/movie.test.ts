/** `concert movie` as a subprocess, read back by Debian's ffprobe. */
import assert from 'node:assert/strict';
import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { MultiFileWriter } from '../../../../walkers/formats/index.js';
import { debianFfmpeg, probe, rampFrame } from '../../video/helpers.js';
import { useTempDir } from '../../walkers/formats/helpers.js';
import { concertAsync } from '../support.js';

describe('concert movie', function () {
  this.timeout(60_000);
  const dir = useTempDir();

  it('makes a movie from an acquisition folder with --fps, --size, --contrast and --erase-frames', async function () {
    debianFfmpeg(this);
    const radios = join(dir.path, 'scan_0000', 'radios');
    await mkdir(radios, { recursive: true });
    const writer = await MultiFileWriter.open(radios);
    for (let i = 0; i < 12; i++) await writer.write(rampFrame(i, 48, 32));
    await writer.close();
    const out = join(dir.path, 'radios.mp4');
    const r = await concertAsync(
      dir.path,
      ['movie', radios, out, '--fps', '6', '--size', '96x96', '--contrast', '100,4000', '--erase-frames'],
      {
        timeoutMs: 50_000,
      },
    );
    assert.equal(r.status, 0, r.stderr);
    assert.match(
      r.stdout,
      /^wrote .*radios\.mp4: 12 frames, 96x96, 6 fps, [\d.]+ MB \(frame count verified\)\nerased 12 frame files\n$/,
    );
    assert.deepEqual(await probe(out), { codec: 'h264', pixFmt: 'yuv420p', width: 96, height: 96, fps: 6, frames: 12 });
    assert.deepEqual(await readdir(radios), []);
  });

  it('fails with a non-zero status and a clear message', async () => {
    let r = await concertAsync(dir.path, ['movie', join(dir.path, 'nothing'), join(dir.path, 'x.mp4')]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /^Sorry, cannot read .*nothing: no such file or directory/m);
    r = await concertAsync(dir.path, ['movie', dir.path, join(dir.path, 'x.mp4'), '--contrast', 'bright']);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /--contrast must be auto, frame or MIN,MAX/);
    r = await concertAsync(dir.path, ['movie', dir.path, join(dir.path, 'x.avi')]);
    assert.match(r.stderr, /the movie must be an \.mp4 file/);
    r = await concertAsync(dir.path, ['movie', dir.path, join(dir.path, 'x.mp4')]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /no frames in/);
  });
});
