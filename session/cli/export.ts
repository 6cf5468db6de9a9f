/**
 * `concert export NAME… [--out file.zip]`: writes sessions into a zip archive.
 * @module
 */
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { checkName, findSession } from '../store.js';
import { zip } from '../zip.js';

/** Writes the sessions `names` to `options.out` (default `NAME.zip`, or `sessions.zip`). */
export async function exportSessions(names: string[], options: { out?: string } = {}): Promise<void> {
  const checked = names.map(checkName);
  const entries = checked.map((n) => {
    const { path } = findSession(n);
    return { name: `${n}.ts`, data: readFileSync(path), mtime: statSync(path).mtime };
  });
  const out = resolve(options.out ?? (checked.length === 1 ? `${checked[0]}.zip` : 'sessions.zip'));
  writeFileSync(out, zip(entries));
  process.stdout.write(`Exported ${checked.join(', ')} to ${out}\n`);
}
