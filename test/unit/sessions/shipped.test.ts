/**
 * The sessions we ship run end to end through the real CLI (piped stdin, executed line by line).
 */
import assert from 'node:assert/strict';
import { execSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const bin = fileURLToPath(new URL('../../../bin/concert', import.meta.url));

function run(session: string, input: string, timeoutMs = 90_000): string {
  const home = mkdtempSync(join(tmpdir(), 'concert-shipped-'));
  try {
    const r = spawnSync(bin, ['start', session, '--no-progress'], {
      input,
      encoding: 'utf8',
      timeout: timeoutMs,
      env: { ...process.env, XDG_DATA_HOME: home },
    });
    assert.equal(r.status, 0, `exit ${r.status}\n${r.stdout}\n${r.stderr}`);
    return r.stdout;
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

describe('shipped sessions', function () {
  this.timeout(120_000);

  it('demo: the tomography runs, the writer writes, the reconstruction shows the phantom', () => {
    const out = run(
      'demo',
      [
        'const r = await experiment.run()',
        'console.log("FRAMES", JSON.stringify(Object.fromEntries(Object.entries(r.acquisitions).map(([k, v]) => [k, v.frames]))))',
        'console.log("WRITTEN", writer.summary().framesWritten)',
        'import { sheppLogan } from "concert/reco"',
        // The camera sees the phantom with an attenuation of 4/256 per unit and pixel.
        'const t = sheppLogan(256, 256, { supersample: 2 }); const s = reco.slices[0]; let e = 0; for (let i = 0; i < t.length; i++) e ' +
          '+= (s.data[i] - t[i] * 4 / 256) ** 2',
        'console.log("SLICE", s.shape.join("x"), "RMSE", Math.sqrt(e / t.length) / (4 / 256))',
      ].join('\n') + '\n',
    );
    assert.match(out, /FRAMES \{"darks":10,"flats":10,"radios":200\}/);
    assert.match(out, /WRITTEN 220/);
    const m = /SLICE 256x256 RMSE ([\d.e-]+)/.exec(out);
    assert.ok(m, out);
    assert.ok(Number(m[1]) < 0.1, `the slice is the phantom (relative RMSE ${m[1]})`);
  });

  it('remote-demo: servers start, the remote experiment runs, nothing is left running', () => {
    const out = run(
      'remote-demo',
      [
        'const r = await experiment.run()',
        'console.log("FRAMES", JSON.stringify(Object.fromEntries(Object.entries(r.acquisitions).map(([k, v]) => [k, v.frames]))))',
        'const st = await writer.server.status(); console.log("SERVER", st.totals.frames)',
        'console.log("SLICES", (await reco.slices()).length)',
      ].join('\n') + '\n',
    );
    assert.match(out, /FRAMES \{"darks":10,"flats":10,"radios":100\}/);
    assert.match(out, /SERVER 120/);
    assert.match(out, /SLICES 1/);
    // Only this checkout's servers: other checkouts on the machine may run their own.
    const entry = fileURLToPath(new URL('../../../addons/remote/spawn-entry.ts', import.meta.url));
    const left = execSync('ps -eo args', { encoding: 'utf8' })
      .split('\n')
      .filter((l) => l.includes(entry) && !l.includes('ps -eo'));
    assert.deepEqual(left, [], 'every server process stopped');
  });
});
