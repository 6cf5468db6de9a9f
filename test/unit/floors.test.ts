import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { dirname, join, normalize, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The floors of docs/architecture.md, lowest first; a module imports only from its floor or lower ones. */
const FLOORS: Record<string, number> = {
  core: 0,
  tango: 1,
  transport: 1,
  reco: 1,
  walkers: 2,
  video: 3,
  devices: 4,
  experiments: 5,
  recording: 5,
  conductor: 5,
  addons: 6,
  streaming: 7,
  session: 8,
};

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

async function sources(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(join(repo, dir), { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await sources(path)));
    else if (/\.(ts|mjs)$/.test(entry.name)) out.push(path);
  }
  return out;
}

describe('floors', () => {
  it('every import goes to the same floor or a lower one (experiments never import addons)', async () => {
    const violations: string[] = [];
    for (const floor of Object.keys(FLOORS)) {
      for (const file of await sources(floor)) {
        const text = await readFile(join(repo, file), 'utf8');
        for (const match of text.matchAll(/(?:from|import)\s*\(?\s*['"](\.[^'"]+)['"]/g)) {
          const target = relative(repo, normalize(join(repo, dirname(file), match[1]!))).split('/')[0]!;
          if (target === floor || !(target in FLOORS)) continue;
          if (FLOORS[target]! >= FLOORS[floor]!) violations.push(`${file} imports ${match[1]}`);
        }
      }
    }
    assert.deepEqual(violations, []);
  });
});
