/**
 * Why a session file failed to load, as `file:line:column: message` (syntax errors, errors thrown
 * by the session code, imports that cannot be resolved).
 * @module
 * @internal
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { brokenModuleMessage } from './transform.js';

function position(source: string, index: number): { line: number; column: number } {
  const before = source.slice(0, index).split('\n');
  return { line: before.length, column: before.at(-1)!.length + 1 };
}

/**
 * The syntax error of a package file that does not transpile, as `file:line:column: message`,
 * when `error` is what Node reports for a module importing names from it: "does not provide an
 * export named …" (the link fails before the file's own error could be thrown). Undefined for
 * any other error.
 */
export function brokenImportCause(error: unknown): string | undefined {
  if (!(error instanceof SyntaxError)) return undefined;
  const requested = /The requested module '([^']+)' does not provide an export named/.exec(error.message);
  const importer = /^(file:\/\/[^\n]+?):\d+\n/.exec(String(error.stack ?? ''));
  if (!requested || !importer) return undefined;
  try {
    const target = new URL(requested[1]!, importer[1]);
    return target.protocol === 'file:' ? brokenModuleMessage(readFileSync(fileURLToPath(target), 'utf8')) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Describes why the session `file` (its text: `source`) failed to load, as
 * `file:line:column: message` and a second line saying the session did not load.
 */
export function describeLoadError(error: unknown, file: string, source: string): string {
  const e = (error ?? {}) as Error & {
    code?: string;
    errors?: Array<{ text: string; location?: { line: number; column: number; file?: string } }>;
  };
  // Name cached package modules as the session wrote them ('concert/devices/motors/dummy'), in
  // the cache or in its main thread's view (m/, start-bundle.ts).
  const message = String(e.message ?? error).replace(
    /'file:\/\/[^']*\/node_modules\/\.cache\/concert\/(?:m\/)?([^']+?)(?:\/?index)?\.js'/g,
    (_, path: string) => (path === 'index' || path === '' ? "'concert'" : `'concert/${path}'`),
  );
  const lead = (where: string, what: string) => `${where}: ${what}\nThe session failed to load.`;

  // A package file it imports (maybe through others) does not transpile.
  const broken = brokenImportCause(error);
  if (broken) {
    const at = /^(.*?:\d+:\d+): (.*)$/s.exec(broken);
    return at ? lead(at[1]!, `SyntaxError: ${at[2]}`) : lead(file, `SyntaxError: ${broken}`);
  }

  // esbuild (tsx) transform errors: "Transform failed with 1 error:\n/path:3:10: ERROR: …"
  const esbuild = /^(\/[^\n:]+):(\d+):(\d+): ERROR: (.*)$/m.exec(message);
  // (esbuild's columns are 0-based)
  if (esbuild) return lead(`${esbuild[1]}:${esbuild[2]}:${Number(esbuild[3]) + 1}`, `SyntaxError: ${esbuild[4]}`);
  // The loader's TranspileError (esbuild's location: line 1-based, column 0-based), maybe in a
  // file the session imports.
  if (Array.isArray(e.errors) && e.errors[0]?.location) {
    const { line, column, file: where = file } = e.errors[0].location;
    return lead(`${where}:${line}:${column + 1}`, `SyntaxError: ${e.errors[0].text}`);
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
