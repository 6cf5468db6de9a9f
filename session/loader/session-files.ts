/**
 * Session files — TypeScript anywhere on disk — transpiled into the cache's `ext/` folder, with
 * their `concert` / `concert/…` imports pointed at the cached package and their relative `.ts`
 * imports at the transpiled copies of those files. A file is transpiled again when its mtime or
 * size changed; the files it imports are checked every time.
 * @module
 * @internal
 */
import { createRequire } from 'node:module';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve as resolvePath } from 'node:path';
import { pathToFileURL } from 'node:url';
import { cacheKey, writeAtomic } from './files.js';
import type { PackageCache } from './package-cache.js';
import { CACHE_VERSION } from './package-cache.js';
import { baseDirOf, isConcertSpecifier, isPathSpecifier, resolvePathSpecifier } from './resolve.js';
import { esbuildOptions, finishModule, importSpecifiers, transpileError } from './transform.js';

/** Transpiles session files for one {@link PackageCache}. */
export class SessionFiles {
  readonly #cache: PackageCache;
  readonly #dir: string;

  constructor(cache: PackageCache) {
    this.#cache = cache;
    this.#dir = join(cache.dir, 'ext');
  }

  /**
   * The URL to import for the TypeScript file `file`, transpiled (with the files it imports) if
   * it changed.
   * @throws TranspileError for a syntax error; ModuleNotFoundError for an import that cannot be resolved.
   */
  urlOf(file: string): string {
    let esbuild: typeof import('esbuild') | undefined;
    try {
      return this.#compile(resolvePath(file), new Set(), () => (esbuild ??= loadEsbuild()));
    } finally {
      // esbuild's service would die at the next Ctrl-C; the next compile starts a new one.
      void esbuild?.stop();
    }
  }

  /**
   * Maps a specifier written in `parent` (a session file; undefined: typed at the prompt):
   * `concert…` to the cached package, a path to a `.ts` file to its transpiled copy, a path to
   * another file to its URL, a bundled dependency (`zod`) to its bundle. Undefined: leave it to
   * node (`node:fs`, other packages).
   */
  resolve(specifier: string, parent?: string): string | undefined {
    return this.#resolve(specifier, parent, new Set(), () => loadEsbuild(), undefined);
  }

  #resolve(
    specifier: string,
    parent: string | undefined,
    stack: Set<string>,
    esbuild: () => typeof import('esbuild'),
    deps: string[] | undefined,
  ): string | undefined {
    if (isConcertSpecifier(specifier)) return this.#cache.concertUrl(specifier);
    // Bundled dependencies (zod) are the package's bundle, so a session's `z` is the package's.
    if (!isPathSpecifier(specifier)) return this.#cache.dependencyUrl(specifier);
    const found = resolvePathSpecifier(specifier, baseDirOf(parent));
    if (!found.endsWith('.ts')) return pathToFileURL(found).href;
    deps?.push(found);
    return this.#compile(found, stack, esbuild);
  }

  #compile(src: string, stack: Set<string>, esbuild: () => typeof import('esbuild')): string {
    // A file of the package itself (sessions/demo.ts) is in the package cache already.
    if (this.#cache.holds(src)) return this.#cache.urlOf(src);
    const key = cacheKey(src);
    const out = join(this.#dir, `${key}.js`);
    const url = pathToFileURL(out).href;
    if (stack.has(src)) return url; // an import cycle: the file is being compiled further up
    stack.add(src);
    const st = statSync(src);
    // (with the package's shapes: its imports through barrels were rewritten with them)
    const stamp = `v${CACHE_VERSION} ${this.#cache.shapesStamp} ${st.mtimeMs}:${st.size}`;
    const stampFile = `${out}.stamp`;
    const recorded = existsSync(stampFile) && existsSync(out) ? readFileSync(stampFile, 'utf8').split('\n') : [];
    if (recorded[0] === stamp) {
      // Unchanged; the files it imports may have changed.
      for (const dep of recorded.slice(1)) if (dep) this.#compile(dep, stack, esbuild);
      return url;
    }
    const source = readFileSync(src, 'utf8');
    let js: string;
    try {
      js = esbuild().transformSync(source, { ...esbuildOptions('session'), sourcefile: src, loader: 'ts' }).code;
    } catch (error) {
      throw transpileError(error, src);
    }
    // `import { q } from 'concert'` loads core/quantity.js, not every module of the package.
    js = this.#cache.throughBarrels(js);
    const deps: string[] = [];
    // Resolve (and transpile) every import before writing, so a broken import fails the load.
    const mapped = new Map<string, string | undefined>();
    for (const specifier of importSpecifiers(js))
      if (!mapped.has(specifier)) mapped.set(specifier, this.#resolve(specifier, src, stack, esbuild, deps));
    writeAtomic(
      out,
      finishModule(js, src, (s) => mapped.get(s)),
    );
    writeAtomic(stampFile, [stamp, ...new Set(deps)].join('\n'));
    return url;
  }
}

/** esbuild's synchronous API needs its CommonJS entry (loaded only when something is transpiled). */
function loadEsbuild(): typeof import('esbuild') {
  return createRequire(import.meta.url)('esbuild') as typeof import('esbuild');
}
