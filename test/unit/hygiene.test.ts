import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Every TypeScript file of the repository (not node_modules, hidden folders or bench results). */
async function typescriptFiles(dir = ''): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(join(repo, dir), { withFileTypes: true })) {
    if (entry.name.startsWith('.') || entry.name === 'node_modules' || entry.name === 'results') continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await typescriptFiles(path)));
    else if (/\.(ts|mts)$/.test(entry.name)) out.push(path);
  }
  return out;
}

/** A line that holds one regular expression literal (which cannot be split), maybe followed by `.test(` or `,`. */
const REGEX_LINE = /^\s*\/\^?.*\/[dgimsuy]*(\.test\(|,|\))?\s*$/;

describe('hygiene', () => {
  it('no line is over 140 characters (a lone regular expression literal excepted)', async () => {
    const long: string[] = [];
    for (const file of await typescriptFiles()) {
      const lines = (await readFile(join(repo, file), 'utf8')).split('\n');
      lines.forEach((line, i) => {
        if ([...line].length > 140 && !REGEX_LINE.test(line)) long.push(`${file}:${i + 1} (${[...line].length})`);
      });
    }
    assert.deepEqual(long, []);
  });
});
