/**
 * The loader the `concert` command runs on: the package's transpile cache plus session files
 * anywhere on disk, with one resolver for `concert` / `concert/…` and relative imports.
 * @module
 * @internal
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { PackageCache, type RefreshOptions, type RefreshResult } from './package-cache.js';
import { SessionFiles } from './session-files.js';
import { staticImportSpecifiers } from './transform.js';

/** The package cache and the session files of one package root. */
export class Loader {
  readonly cache: PackageCache;
  readonly sessions: SessionFiles;

  /** A loader for the package at `root` with its cache in `cacheDir`; call {@link refresh} before importing. */
  constructor(root: string, cacheDir: string) {
    this.cache = new PackageCache(root, cacheDir);
    this.sessions = new SessionFiles(this.cache);
  }

  /** Brings the package cache up to date (see {@link PackageCache.refresh}). */
  refresh(options?: RefreshOptions): Promise<RefreshResult> {
    return this.cache.refresh(options);
  }

  /** Imports a module of the package from the cache (`session/cli/main.ts`). */
  importPackage(file: string): Promise<Record<string, unknown>> {
    return import(this.cache.urlOf(file)) as Promise<Record<string, unknown>>;
  }

  /**
   * Transpiles a session file if needed and loads the package modules it imports, with source
   * maps still off: with them on, node reads and parses the source map of every module it loads
   * (zeromq's among them), which costs start-up time and maps nothing of ours. Call it outside
   * any abort scope: the promise hooks of a scope slow module loading down. Returns the URL to
   * import.
   */
  async prepareSession(file: string): Promise<string> {
    const url = this.sessions.urlOf(file);
    const cacheUrl = pathToFileURL(this.cache.dir).href + '/';
    const js = readFileSync(fileURLToPath(url), 'utf8');
    for (const specifier of staticImportSpecifiers(js)) {
      // (a package file, sessions/demo.ts, imports others relatively: `../core/quantity.js`)
      const target = specifier.startsWith('.') ? new URL(specifier, url).href : specifier;
      if (target.startsWith(cacheUrl) && !target.startsWith(`${cacheUrl}ext/`)) await import(target);
    }
    return url;
  }

  /**
   * Imports a session file (anywhere on disk), after {@link prepareSession}. Session lines appear
   * in stack traces from here on (inline source maps).
   */
  async importSession(file: string): Promise<Record<string, unknown>> {
    const url = await this.prepareSession(file);
    process.setSourceMapsEnabled(true);
    return (await import(url)) as Record<string, unknown>;
  }

  /** Maps a specifier typed at the prompt (undefined: leave it to node). */
  resolvePromptSpecifier(specifier: string): string | undefined {
    return this.sessions.resolve(specifier);
  }
}

/**
 * `import(specifier)` from here: the start bundle's dynamic imports (start-bundle.ts), whose
 * relative specifiers it has made absolute; bare ones resolve up the same folders as from it.
 */
export function importModule(specifier: string): Promise<unknown> {
  return import(specifier);
}

let active: Loader | undefined;

/** The loader `bin/concert` started with; undefined when the package runs without it (under tsx, in tests). */
export function activeLoader(): Loader | undefined {
  return active;
}

/** Makes `loader` the one {@link activeLoader} returns. */
export function setActiveLoader(loader: Loader | undefined): void {
  active = loader;
}
