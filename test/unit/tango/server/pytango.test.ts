/**
 * PyTango (Debian's python3-tango, a cppTango/omniORB client) against our device server.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { DeviceServer } from '../../../../tango/server/index.js';
import { pyTangoAvailable } from '../pytango-server.js';
import { matrixDevice } from './fixtures/matrix-device.js';

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

/** Runs a Python script without blocking the event loop (the server lives in this process). */
function python(script: string, args: string[], timeoutMs = 60000): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile('/usr/bin/python3', [script, ...args], { timeout: timeoutMs }, (err, out, errOut) =>
      err ? reject(new Error(`${script} failed: ${err.message}\n${errOut.slice(-2000)}`)) : resolve(out),
    ),
  );
}

describe('tango/server: PyTango clients against our device server', function () {
  this.timeout(120000);
  let server: DeviceServer | undefined;

  before(async function () {
    if (!pyTangoAvailable()) this.skip();
    server = await DeviceServer.create({
      server: 'matrix',
      instance: 'test',
      devices: [{ name: 'test/matrix/1', definition: matrixDevice() }],
    });
  });
  after(async () => server?.stop());

  it('every attribute type and format and every command argument type round-trips; errors, events', async () => {
    const out = await python(fixture('pytango_matrix.py'), [server!.url('test/matrix/1')]);
    const lines = out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { case?: string; ok?: boolean; detail?: string; done?: boolean });
    assert.ok(lines.at(-1)?.done, 'the script ran to its end');
    const cases = lines.filter((l) => l.case);
    const failed = cases.filter((l) => !l.ok).map((l) => `${l.case}: ${l.detail}`);
    assert.deepEqual(failed, []);
    assert.ok(cases.length >= 60, `${cases.length} cases`);
  });

  it('16 PyTango clients at once, each with its own connection', async () => {
    const before = server!.counters.connections;
    const results = await Promise.all(
      Array.from({ length: 16 }, (_, i) =>
        python(fixture('pytango_client.py'), [server!.url('test/matrix/1'), String(i), '30']),
      ),
    );
    for (const [i, out] of results.entries()) {
      const r = JSON.parse(out.trim().split('\n').pop()!) as { index: number; ok: number; bad: unknown[] };
      assert.deepEqual([r.index, r.ok, r.bad], [i, 30, []]);
    }
    assert.ok(server!.counters.connections - before >= 16, 'one connection per client at least');
  });
});
