/**
 * The one resolver of the loader: where `concert`, `concert/…` and relative specifiers of
 * TypeScript files point, wherever the importing file lives. `concert` specifiers go through the
 * package's `exports` map (package.json), exactly as node resolves a self-reference; relative ones
 * find the `.ts` file behind a `.js` suffix, or behind no suffix at all, as tsx does.
 * @module
 * @internal
 */
import { existsSync, statSync } from 'node:fs';
import { dirname, extname, resolve as resolvePath } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The `exports` field of a package.json (string targets only: Concert's has no conditions). */
export type ExportsMap = Readonly<Record<string, unknown>>;

/** An import that cannot be resolved; the message ends with `(for '<specifier>')`. */
export class ModuleNotFoundError extends Error {
  override name = 'Error';
  readonly code = 'ERR_MODULE_NOT_FOUND';
  constructor(
    readonly specifier: string,
    message: string,
  ) {
    super(`${message} (for '${specifier}')`);
  }
}

/** True for `concert` and `concert/…`. */
export function isConcertSpecifier(specifier: string): boolean {
  return specifier === 'concert' || specifier.startsWith('concert/');
}

/** True for `./…`, `../…`, absolute paths and `file:` URLs. */
export function isPathSpecifier(specifier: string): boolean {
  return (
    specifier.startsWith('./') ||
    specifier.startsWith('../') ||
    specifier.startsWith('/') ||
    specifier.startsWith('file:')
  );
}

/**
 * The target the `exports` map gives a subpath (`.`, `./core`, `./devices/motors/dummy`): an exact
 * key first, then the first `*` pattern that matches. Undefined when the package does not export it.
 */
export function exportTarget(exportsMap: ExportsMap, subpath: string): string | undefined {
  const exact = exportsMap[subpath];
  if (typeof exact === 'string') return exact;
  for (const [pattern, target] of Object.entries(exportsMap)) {
    const star = pattern.indexOf('*');
    if (star < 0 || typeof target !== 'string') continue;
    const before = pattern.slice(0, star);
    const after = pattern.slice(star + 1);
    if (subpath.startsWith(before) && subpath.endsWith(after) && subpath.length >= before.length + after.length)
      return target.replace('*', subpath.slice(before.length, subpath.length - after.length));
  }
  return undefined;
}

/**
 * The source file of the package that `concert` / `concert/…` names (an absolute path).
 * @throws ModuleNotFoundError when the package does not export it or the file does not exist.
 */
export function resolveConcert(specifier: string, root: string, exportsMap: ExportsMap): string {
  const subpath = specifier === 'concert' ? '.' : `./${specifier.slice('concert/'.length)}`;
  const target = exportTarget(exportsMap, subpath);
  const file = target === undefined ? undefined : resolvePath(root, target);
  if (file === undefined || !isFile(file))
    throw new ModuleNotFoundError(specifier, `Cannot find module '${specifier}' in the concert package`);
  return file;
}

/**
 * The file a path specifier names, relative to `baseDir`: `./x.js` is `./x.ts` when that exists
 * (TypeScript's convention), `./x` is `./x.ts` or `./x`.
 * @throws ModuleNotFoundError when there is no such file.
 */
export function resolvePathSpecifier(specifier: string, baseDir: string): string {
  const path = specifier.startsWith('file:') ? fileURLToPath(specifier) : resolvePath(baseDir, specifier);
  const ext = extname(path);
  const candidates = ext === '.js' ? [path.replace(/\.js$/, '.ts'), path] : ext ? [path] : [`${path}.ts`, path];
  const found = candidates.find(isFile);
  if (!found) throw new ModuleNotFoundError(specifier, `Cannot find module '${path}'`);
  return found;
}

/** The directory that relative specifiers in `file` are resolved against (the prompt: the working directory). */
export function baseDirOf(file: string | undefined): string {
  return file === undefined ? process.cwd() : dirname(file);
}

function isFile(path: string): boolean {
  return existsSync(path) && statSync(path).isFile();
}
