/** The device server example of docs/tango.md runs as written, as a session file. */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { concertAsync } from '../../session/support.js';

const DOC = fileURLToPath(new URL('../../../../docs/tango.md', import.meta.url));

describe('docs/tango.md: the device server example', function () {
  this.timeout(120_000);
  it('serves a device, reads and commands it, and a bad write arrives as DevFailed with its reason', async () => {
    const block = [...(await readFile(DOC, 'utf8')).matchAll(/```ts\n([\s\S]*?)```/g)]
      .map((m) => m[1]!)
      .find((b) => b.includes('defineDevice'));
    assert.ok(block, 'docs/tango.md has the defineDevice example');
    const dir = await mkdtemp(join(tmpdir(), 'concert-tango-doc-'));
    try {
      await writeFile(join(dir, 'ring.ts'), block);
      const r = await concertAsync(dir, ['start', '--filename', join(dir, 'ring.ts'), '--non-interactive'], {
        timeoutMs: 100_000,
      });
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /current 200\.5/);
      assert.match(r.stdout, /after inject 210\.5/);
      assert.match(r.stdout, /Ring_BadThreshold: threshold: threshold must be >= 0 mA, got -1/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
