/**
 * The loader the `concert` command runs on: the package's transpile cache plus session files
 * anywhere on disk, with one resolver for `concert` / `concert/…` and relative imports.
 * @module
 * @internal
 */
import { PackageCache, type RefreshOptions, type RefreshResult } from './package-cache.js';
import { SessionFiles } from './session-files.js';

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
   * Imports a session file (anywhere on disk). Session lines appear in stack traces from here on
   * (inline source maps; only modules loaded from now on pay for them).
   */
  importSession(file: string): Promise<Record<string, unknown>> {
    const url = this.sessions.urlOf(file);
    process.setSourceMapsEnabled(true);
    return import(url) as Promise<Record<string, unknown>>;
  }

  /** Maps a specifier typed at the prompt (undefined: leave it to node). */
  resolvePromptSpecifier(specifier: string): string | undefined {
    return this.sessions.resolve(specifier);
  }
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
