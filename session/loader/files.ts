/**
 * Small file helpers of the loader: atomic writes (several `concert` processes may fill the cache
 * at once) and the list of the package's TypeScript sources.
 * @module
 * @internal
 */
import { mkdirSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, sep } from 'node:path';

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
  // (plain string paths: this runs at every start, and path.join would cost more than the readdirs)
  const walk = (dir: string, rel: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const name = entry.name;
      if (name.startsWith('.')) continue;
      if (entry.isDirectory()) {
        if ((rel === '' && notLoaded.has(name)) || name === 'node_modules') continue;
        walk(`${dir}${sep}${name}`, `${rel}${name}${sep}`);
      } else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) out.push(rel + name);
    }
  };
  walk(root, '');
  return out.sort();
}
