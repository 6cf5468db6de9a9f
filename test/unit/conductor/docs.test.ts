/**
 * The examples of docs/conductor.md run as written: the session example as a session file
 * (`concert start --filename … --non-interactive`) and the configuration example through
 * `loadConfig`, against camera server processes.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnServer, type ServerProcess } from '../../../addons/remote/spawn.js';
import { loadConfig, readAcquisitionData } from '../../../conductor/index.js';
import { concertAsync } from '../session/support.js';
import { useTempDir } from '../walkers/formats/helpers.js';

const DOC = fileURLToPath(new URL('../../../docs/conductor.md', import.meta.url));

function blocks(markdown: string, language: string): string[] {
  return [...markdown.matchAll(new RegExp('```' + language + '\\n([\\s\\S]*?)```', 'g'))].map((m) => m[1]!);
}

describe('docs/conductor.md examples', function () {
  this.timeout(240_000);
  const tmp = useTempDir();
  const servers: ServerProcess[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.stop()));
  });

  it('the configuration example is valid as written', async () => {
    const file = join(tmp.path, 'conductor.toml');
    writeFileSync(file, blocks(readFileSync(DOC, 'utf8'), 'toml')[0]!);
    const config = await loadConfig(file);
    assert.equal(config.cameras.top!.frameRate, 90);
    assert.equal(config.general.maxAcquisitionTime, 600);
  });

  it('the session example records with two camera servers', async () => {
    for (let i = 0; i < 2; i++)
      servers.push(await spawnServer('camera', { width: 64, height: 48, simulate: false, root: tmp.path }, 150_000));
    const toml = [
      '[general]',
      'dataPath = "data"',
      '[log]',
      `file = "${join(tmp.path, 'conductor.log')}"`,
      ...servers.flatMap((s, i) => [`[cameras.cam${i}]`, `endpoint = "${s.endpoint}"`, 'frameRate = 30']),
    ].join('\n');
    writeFileSync(join(tmp.path, 'conductor.toml'), toml);
    const session = blocks(readFileSync(DOC, 'utf8'), 'ts')[0]!.replace(
      "'conductor.toml'",
      JSON.stringify(join(tmp.path, 'conductor.toml')),
    );
    writeFileSync(join(tmp.path, 'colony.ts'), session);
    const r = await concertAsync(tmp.path, ['start', '--filename', join(tmp.path, 'colony.ts'), '--non-interactive'], {
      timeoutMs: 180_000,
    });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /start skew \d+\.\d\d ms/);
    assert.match(r.stdout, /cam1: \{[^}]*state: 'recording'/);
    assert.match(r.stdout, /^true$/m);
    const data = await readAcquisitionData(join(tmp.path, 'data', 'mouse12', 'mouse12__day3'));
    assert.ok(data.complete, JSON.stringify(Object.values(data.cameras).map((c) => c.problems)));
  });
});
