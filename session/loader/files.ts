/**
 * Small file helpers of the loader: atomic writes (several `concert` processes may fill the cache
 * at once) and the list of the package's TypeScript sources.
 * @module
 * @internal
 */
import { mkdirSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, relative, sep } from 'node:path';

/** Writes `path` through a temporary file and a rename, so readers see the old or the new file whole. */
export function writeAtomic(path: string, contents: string | Uint8Array): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, contents);
  renameSync(tmp, path);
}

/** The import specifier a module in folder `fromDir` writes for the file `path`: `./x.js`, `../y/z.js`. */
export function specifierFrom(fromDir: string, path: string): string {
  const spec = relative(fromDir, path).split(sep).join('/');
  return spec.startsWith('.') ? spec : `./${spec}`;
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

/**
 * A 64-bit key of `text` as 16 hex digits, for file names in the cache (two 32-bit FNV-1a lanes
 * over the UTF-16 code units, the second seeded differently and mixed by a multiply). Not a
 * cryptographic hash: sha1 would load `node:crypto`, ≈ 4 ms of every start, for names no one
 * attacks; an accidental clash is as unlikely as with 16 digits of sha1.
 */
export function cacheKey(text: string): string {
  let a = 0x811c9dc5;
  let b = 0x9e3779b9;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x85ebca6b) ^ (b >>> 13);
  }
  a = Math.imul(a ^ (a >>> 16), 0x7feb352d);
  b = Math.imul(b ^ (b >>> 15), 0x846ca68b);
  return (a >>> 0).toString(16).padStart(8, '0') + ((b ^ (b >>> 16)) >>> 0).toString(16).padStart(8, '0');
}
