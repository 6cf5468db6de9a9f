/**
 * A recording stopped while its start gives the core up (the yield after the camera started)
 * leaves no timer behind: the maxAcquisitionTime timer is not armed for a stopped recording.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { q } from '../../../../core/index.js';
import { Recording } from '../../../../conductor/host/recording.js';
import { Camera } from '../../../../devices/cameras/dummy.js';

const timeouts = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

describe('Recording stopped during its start (conductor/host)', function () {
  this.timeout(20_000);
  let base = '';
  beforeEach(() => (base = mkdtempSync(join(tmpdir(), 'concert-recording-stop-'))));
  afterEach(() => rmSync(base, { recursive: true, force: true }));

  it('stopped during the yield after the camera started, it arms no maxAcquisitionTime timer', async () => {
    const camera = await Camera.create({ width: 16, height: 8, frameRate: q(100, 'Hz'), simulate: false });
    const recording = new Recording(
      camera,
      {
        camera: 'cam',
        acquisitionName: 'yieldstop',
        group: '',
        dataPath: 'data',
        saveData: false,
        format: 'tiff',
        maxAcquisitionTime: 3600,
        frameRate: 100,
        triggerSource: 'AUTO',
        settings: {},
      },
      join(base, 'yieldstop', 'cam'),
      {},
    );
    await recording.arm();
    const before = timeouts();
    const at = performance.timeOrigin + performance.now() + 30;
    const starting = recording.start(at);
    // runs once the wait ended and the camera started: the start is in its yield then (a stop
    // later than the yield finds the timer armed and clears it: this case then passes anyway)
    await new Promise((r) => setTimeout(r, 31));
    assert.equal(camera.state.current, 'recording', 'the camera started before the stop');
    const summary = await recording.stop();
    await starting.catch(() => undefined);
    assert.equal(summary.state, 'done');
    // as many as while armed (mocha's; the arm timer is unref'd, not counted)
    assert.equal(timeouts(), before, 'a timer is left behind');
    await camera.disconnect();
  });
});
