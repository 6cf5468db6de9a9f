/** `concert conductor check` and `concert conductor convert` as subprocesses. */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../../../conductor/index.js';
import { concert, removeTemp, tempHome } from '../session/support.js';
import { useTempDir } from '../walkers/formats/helpers.js';

const here = fileURLToPath(new URL('.', import.meta.url));

describe('concert conductor check|convert', function () {
  this.timeout(60_000);
  const tmp = useTempDir();
  let home: string;
  before(() => (home = tempHome()));
  after(() => removeTemp(home));

  it('check prints the configuration with its defaults filled in', () => {
    const file = join(tmp.path, 'c.toml');
    writeFileSync(file, '[cameras.top]\nendpoint = "tcp://127.0.0.1:9001"\n');
    const r = concert(home, ['conductor', 'check', file], { timeoutMs: 40_000 });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /valid/);
    assert.match(r.stdout, /maxAcquisitionTime = 7200/);
    assert.match(r.stdout, /frameRate = 90/);
    assert.match(r.stdout, /onCameraLost = "continue"/);
  });

  it('check lists every problem and exits 1', () => {
    const file = join(here, 'config', 'invalid', '37-many-problems.toml');
    const r = concert(home, ['conductor', 'check', file], { timeoutMs: 40_000 });
    assert.equal(r.status, 1);
    const lines = r.stderr.split('\n').filter((l) => /^\s+\S+: /.test(l));
    assert.ok(lines.length >= 3, r.stderr);
    assert.match(r.stderr, /nothing was started/);
  });

  it('convert writes a TOML file that check accepts, and refuses to overwrite it', async () => {
    const out = join(tmp.path, 'rcc.toml');
    const source = join(here, 'config', 'rcc', 'rcc.config');
    const r = concert(home, ['conductor', 'convert', source, out, '--endpoint', 'side=tcp://127.0.0.1:8981'], {
      timeoutMs: 40_000,
    });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /wrote .*rcc\.toml: 2 cameras/);
    assert.match(r.stdout, /not converted: .*ttl_out_pin/);
    const config = await loadConfig(out);
    assert.equal(config.cameras.side!.endpoint, 'tcp://127.0.0.1:8981');
    assert.equal(config.cameras.top!.endpoint, 'tcp://127.0.0.1:8980');
    const before = readFileSync(out, 'utf8');
    // two cameras on one address and port are refused, naming both
    const clash = concert(home, ['conductor', 'convert', source, join(tmp.path, 'clash.toml')], { timeoutMs: 40_000 });
    assert.equal(clash.status, 1);
    assert.match(
      clash.stderr,
      /cameras\.side\.endpoint: tcp:\/\/127\.0\.0\.1:8980 is also the endpoint of camera 'top'/,
    );
    const again = concert(home, ['conductor', 'convert', source, out, '--endpoint', 'side=tcp://127.0.0.1:8981'], {
      timeoutMs: 40_000,
    });
    assert.equal(again.status, 1);
    assert.match(again.stderr, /exists \(--force replaces it\)/);
    assert.equal(readFileSync(out, 'utf8'), before);
  });
});
