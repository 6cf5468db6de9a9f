/**
 * The loader of the `concert` command: the package's TypeScript transpiled once into a cache and
 * loaded from there, session files anywhere on disk importing `concert` and `concert/…`, the
 * V8 code cache for big dependencies, and TypeScript's compiler API on demand (for the prompt).
 * bin/concert starts it (see {@link boot}); nothing here is public API.
 * @module
 * @internal
 */
export { boot, type BootPaths } from './boot.js';
export { installCodeCache, type CodeCacheStats } from './code-cache.js';
export { brokenImportCause, describeLoadError } from './load-error.js';
export { loadSession } from './load-session.js';
export { activeLoader, importModule, Loader, setActiveLoader } from './loader.js';
export { PackageCache, type RefreshResult } from './package-cache.js';
export { ModuleNotFoundError, exportTarget, resolveConcert, resolvePathSpecifier } from './resolve.js';
export { SessionFiles } from './session-files.js';
export { TranspileError } from './transform.js';
export { typescript, type TypeScript } from './typescript.js';
