/**
 * Small file helpers of the loader: atomic writes (several `concert` processes may fill the cache
 * at once) and the list of the package's TypeScript sources.
 * @module
 * @internal
 */
import { mkdirSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';

/** Writes `path` through a temporary file and a rename, so readers see the old or the new file whole. */
export function writeAtomic(path: string, contents: string | Uint8Array): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, contents);
  renameSync(tmp, path);
}

/** Top-level folders of the package that are not part of what the command loads. */
const notLoaded = new Set(['node_modules', 'test', 'bench', 'docs', 'scripts']);

/** Every `.ts` source of the package under `root` (not tests, benches, `.d.ts`), relative to `root`. */
export function packageSources(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.name.startsWith('.')) continue;
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        if ((dir === root && notLoaded.has(entry.name)) || entry.name === 'node_modules') continue;
        walk(path);
      } else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) out.push(relative(root, path));
    }
  };
  walk(root);
  return out.sort();
}
