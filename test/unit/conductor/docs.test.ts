/**
 * The configuration example of docs/conductor.md is valid as written (through `loadConfig`). The
 * session example is a runnable block: test/unit/docs/runnable.test.ts runs it with its camera servers.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../../../conductor/index.js';
import { useTempDir } from '../walkers/formats/helpers.js';

const DOC = fileURLToPath(new URL('../../../docs/conductor.md', import.meta.url));

function blocks(markdown: string, language: string): string[] {
  return [...markdown.matchAll(new RegExp('```' + language + '\\n([\\s\\S]*?)```', 'g'))].map((m) => m[1]!);
}

describe('docs/conductor.md examples', function () {
  const tmp = useTempDir();

  it('the configuration example is valid as written', async () => {
    const file = join(tmp.path, 'conductor.toml');
    writeFileSync(file, blocks(readFileSync(DOC, 'utf8'), 'toml')[0]!);
    const config = await loadConfig(file);
    assert.equal(config.cameras.top!.frameRate, 90);
    assert.equal(config.general.maxAcquisitionTime, 600);
  });
});
