/**
 * Loading TypeScript: the resolve hook that lets session files anywhere on disk import
 * `concert` and `concert/…`, and loading a session file as a module.
 * @module
 */
import { register } from 'node:module';
import * as urlModule from 'node:url';
import { addWorkerHooks } from '../core/worker.js';

let registered = false;

/**
 * The loader `bin/concert` set up (session/boot.mjs): the package transpiled once into
 * node_modules/.cache/concert/ and loaded without hooks. Undefined under tsx (tests, fallback).
 * @internal
 */
export interface FastLoader {
  readonly kind: 'cache';
  importSession(file: string): Promise<Record<string, unknown>>;
  /** Maps `concert`, `concert/…` and relative `.ts` specifiers typed at the prompt; undefined: unchanged. */
  resolveSpecifier(specifier: string): string | undefined;
}

/** The fast loader, if `bin/concert` installed one. @internal */
export function fastLoader(): FastLoader | undefined {
  return (globalThis as Record<symbol, FastLoader | undefined>)[Symbol.for('concert.loader')];
}

/** The URL of this package's `package.json`. */
export const packageJsonUrl = new URL('../package.json', import.meta.url).href;

/**
 * Registers the resolve hook that maps `concert` and `concert/…` to this package, wherever the
 * importing file lives. Call once, after tsx is registered (hooks registered later run first).
 */
export function registerConcertResolver(): void {
  if (registered || fastLoader()) return;
  registered = true;
  register('./resolve-hook.mjs', import.meta.url, { data: { packageJson: packageJsonUrl } });
}

/**
 * Imports a session file and names its devices after the exports that hold them (devices created
 * without an explicit `name`). Returns the module's exports.
 */
export async function loadSession(file: string): Promise<Record<string, unknown>> {
  const { Device } = await import('../core/index.js');
  // Worker modules beside the session file (streaming steps) import `concert/…` as it does.
  addWorkerHooks(new URL('./resolve-hook.mjs', import.meta.url).href, { packageJson: packageJsonUrl });
  const fast = fastLoader();
  if (!fast) registerConcertResolver();
  // Session lines in stack traces (inline source maps); only modules loaded from now on pay for it.
  else process.setSourceMapsEnabled(true);
  const module = (fast ? await fast.importSession(file) : await import(urlModule.pathToFileURL(file).href)) as Record<
    string,
    unknown
  >;
  const exports: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(module)) {
    if (key === 'default' && value === undefined) continue;
    if (value instanceof Device && !value.hasExplicitName) value.rename(key);
    exports[key] = value;
  }
  return exports;
}

function position(source: string, index: number): { line: number; column: number } {
  const before = source.slice(0, index).split('\n');
  return { line: before.length, column: before.at(-1)!.length + 1 };
}

/**
 * Describes why a session file failed to load, as `file:line:column: message` (syntax errors,
 * errors thrown by the session code, imports that cannot be resolved).
 */
export function describeLoadError(error: unknown, file: string, source: string): string {
  const { fileURLToPath } = urlModule;
  const e = (error ?? {}) as Error & {
    code?: string;
    errors?: Array<{ text: string; location?: { line: number; column: number; file?: string } }>;
  };
  // Name cached package modules as the session wrote them ('concert/devices/motors/dummy').
  const message = String(e.message ?? error).replace(
    /'file:\/\/[^']*\/node_modules\/\.cache\/concert\/([^']+?)(?:\/?index)?\.js'/g,
    (_, path: string) => (path === 'index' || path === '' ? "'concert'" : `'concert/${path}'`),
  );
  const lead = (where: string, what: string) => `${where}: ${what}\nThe session failed to load.`;

  // esbuild (tsx) transform errors: "Transform failed with 1 error:\n/path:3:10: ERROR: …"
  const esbuild = /^(\/[^\n:]+):(\d+):(\d+): ERROR: (.*)$/m.exec(message);
  // (esbuild's columns are 0-based)
  if (esbuild) return lead(`${esbuild[1]}:${esbuild[2]}:${Number(esbuild[3]) + 1}`, `SyntaxError: ${esbuild[4]}`);
  if (Array.isArray(e.errors) && e.errors[0]?.location) {
    const { line, column } = e.errors[0].location;
    return lead(`${file}:${line}:${column + 1}`, `SyntaxError: ${e.errors[0].text}`);
  }

  // Unresolvable import: find the specifier in the source.
  if (
    e.code === 'ERR_MODULE_NOT_FOUND' ||
    e.code === 'ERR_PACKAGE_PATH_NOT_EXPORTED' ||
    e.code === 'ERR_UNSUPPORTED_DIR_IMPORT'
  ) {
    const spec =
      /\(for '([^']+)'\)/.exec(message)?.[1] ?? /(?:package|module|directory|subpath) '([^']+)'/.exec(message)?.[1];
    const candidates = spec ? [spec, spec.startsWith('file://') ? fileURLToPath(spec) : spec] : [];
    for (const s of candidates) {
      for (const m of source.matchAll(/\b(?:from\s*|import\s*\(?\s*)(['"])([^'"]+)\1/g)) {
        if (s === m[2] || s.endsWith(m[2]!.replace(/^\.\//, '/').replace(/\.js$/, ''))) {
          const p = position(source, m.index! + m[0].indexOf(m[1]!));
          return lead(`${file}:${p.line}:${p.column}`, `cannot import '${m[2]}': ${message.split('\n')[0]}`);
        }
      }
    }
    return lead(file, `cannot import: ${message.split('\n')[0]}`);
  }

  // V8 syntax/link errors put "file:///…:line" and a caret line at the top of the stack.
  const stack = String(e.stack ?? '');
  const top = /^((?:file:\/\/)?\/[^\n]+?):(\d+)\n([^\n]*)\n(\s*)\^/.exec(stack);
  if (top && (top[1]!.startsWith('file:') ? fileURLToPath(top[1]!) : top[1]) === file)
    return lead(`${file}:${top[2]}:${top[4]!.length + 1}`, `${e.name ?? 'Error'}: ${message}`);

  // An error thrown while the session code ran: the first frame in the session file.
  const frame = new RegExp(`\\(?(?:file://)?${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:(\\d+):(\\d+)`).exec(stack);
  const name = e.name && e.name !== 'Error' ? e.name : 'Error';
  const sorry = isConcert(error) ? `Sorry, ${message}` : `${name}: ${message}`;
  if (frame) return lead(`${file}:${frame[1]}:${frame[2]}`, sorry);
  return lead(file, sorry);
}

function isConcert(error: unknown): boolean {
  for (let p = error; p && typeof p === 'object'; p = Object.getPrototypeOf(p)) {
    if ((p as { constructor?: { name?: string } }).constructor?.name === 'ConcertError') return true;
  }
  return false;
}
