/**
 * A V8 code cache for the big CommonJS files of node_modules (mathjs' bundle, typescript,
 * esbuild's API) and the start bundle of our cache (start-bundle.ts): each is compiled with the
 * code V8 produced for it in an earlier run, which that run wrote at exit (after execution, so it
 * holds the lazily compiled functions too). Loading mathjs' bundle drops from ≈ 130 ms to ≈ 15 ms
 * on a quiet machine. The technique of the `v8-compile-cache` package, kept small and only for
 * big files. Node 22 has this built in
 * (`module.enableCompileCache()`); Node 20 does not.
 * @module
 * @internal
 */
import { readFileSync, statSync } from 'node:fs';
import Module, { createRequire } from 'node:module';
import { dirname, join, sep } from 'node:path';
import { Script } from 'node:vm';
import { cacheKey, writeAtomic } from './files.js';
import { isBundleFile } from './start-bundle.js';

/** The parts of node's CommonJS `Module` the code cache uses (not in @types/node). */
interface CjsModule {
  exports: unknown;
  require(id: string): unknown;
  _compile(content: string, filename: string): unknown;
}
interface CjsModuleClass {
  prototype: CjsModule;
  wrap(content: string): string;
  _resolveFilename(request: string, parent: CjsModule, isMain: boolean, options?: unknown): string;
  _resolveLookupPaths(request: string, parent: CjsModule): string[] | null;
  _extensions: unknown;
  _cache: unknown;
}

/** Files smaller than this compile faster than the cache look-up costs. */
export const MIN_CACHED_SIZE = 64 * 1024;

/** What the code cache did in this process (for `CONCERT_DEBUG` and the tests). */
export interface CodeCacheStats {
  used: string[];
  missing: string[];
  rejected: string[];
}

let installed: { dir: string; stats: CodeCacheStats } | undefined;

/**
 * True for a file the code cache handles: the start bundle (start-bundle.ts), or a big CommonJS
 * file in node_modules (not in our own cache) or a dependency bundle of our cache
 * (`deps/<name>.cjs`, package-cache.ts).
 */
export function isCached(filename: string, size: number): boolean {
  if (isBundleFile(filename)) return true; // whatever its size
  if (size < MIN_CACHED_SIZE) return false;
  if (filename.endsWith('.cjs') && dirname(filename).endsWith(`${sep}deps`)) return true;
  return filename.includes(`${sep}node_modules${sep}`) && !filename.includes(`${sep}.cache${sep}`);
}

/**
 * Compiles big CommonJS files of node_modules with the V8 code cache in `dir` (written at exit for
 * files that had none). Once per process; later calls return the first one's stats.
 */
export function installCodeCache(dir: string): CodeCacheStats {
  if (installed) return installed.stats;
  const stats: CodeCacheStats = { used: [], missing: [], rejected: [] };
  installed = { dir, stats };
  const M = Module as unknown as CjsModuleClass;
  const compile = M.prototype._compile;
  const pending: Array<{ script: Script; file: string }> = [];
  M.prototype._compile = function (this: CjsModule, content: string, filename: string) {
    if (!isCached(filename, content.length)) return compile.call(this, content, filename);
    const st = statSync(filename);
    // (node's flags too: V8 rejects code made under other flags, so `node --cpu-prof` or the
    // command's own flags get a cache of their own instead of rewriting the one of every start)
    const key = cacheKey(`${filename}\0${st.mtimeMs}\0${st.size}\0${process.version}\0${process.execArgv.join(' ')}`);
    const file = join(dir, key);
    let cachedData: Buffer | undefined;
    try {
      cachedData = readFileSync(file);
    } catch {
      cachedData = undefined;
    }
    let script: Script;
    try {
      script = new Script(M.wrap(content), { filename, cachedData });
    } catch {
      return compile.call(this, content, filename); // let node report the syntax error its way
    }
    const outcome = !cachedData ? 'missing' : script.cachedDataRejected ? 'rejected' : 'used';
    stats[outcome].push(filename);
    if (outcome !== 'used') pending.push({ script, file });
    if (process.env.CONCERT_DEBUG) process.stderr.write(`[concert] code cache ${outcome}: ${filename}\n`);
    return script
      .runInThisContext({ displayErrors: true })
      .call(this.exports, this.exports, requireFor(M, this, filename), this, filename, dirname(filename));
  };
  process.once('exit', () => {
    for (const { script, file } of pending) {
      try {
        writeAtomic(file, script.createCachedData());
      } catch {
        // a read-only cache is only slower
      }
    }
  });
  return stats;
}

/** The `require` a CommonJS module gets, as node builds it. */
function requireFor(M: CjsModuleClass, mod: CjsModule, filename: string): NodeJS.Require {
  const req = createRequire(filename);
  const bound = Object.assign((id: string) => mod.require(id), req, {
    resolve: Object.assign(
      (request: string, options?: { paths?: string[] }) => M._resolveFilename(request, mod, false, options),
      { paths: (request: string) => M._resolveLookupPaths(request, mod) },
    ),
    cache: M._cache,
    extensions: M._extensions,
  });
  return bound as unknown as NodeJS.Require;
}
