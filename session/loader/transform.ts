/**
 * TypeScript → JavaScript for the loader, with esbuild (the transpiler tsx uses, so the command
 * runs the same JavaScript as the tests): types stripped, decorators lowered, ES modules kept.
 * After transpiling, `import.meta.url` (and `.filename`, `.dirname`) are pinned to the source file,
 * so code that finds files next to itself keeps working from the cache, and import specifiers
 * may be rewritten. The pinning takes only the expressions: esbuild replaces them with
 * placeholder names ({@link META_NAMES}), so the same words in a string or a template stay.
 * (Replacing the text pinned the facade template of start-bundle.ts, and a cache remade by the
 * cached loader wrote facades that could not find the bundle.)
 * @module
 * @internal
 */
import type { TransformOptions } from 'esbuild';
import { dirname } from 'node:path';
import { pathToFileURL } from 'node:url';

/**
 * What is transpiled: a file of the package (type-only imports are marked `import type`, as
 * `verbatimModuleSyntax` requires; no source map, see docs/sessions.md), or a session file
 * (unused imports dropped, an inline source map so stack traces name session lines).
 */
export type SourceKind = 'package' | 'session';

/** The options esbuild's `build` and `transform` share. */
export type CommonOptions = Pick<
  TransformOptions,
  'format' | 'platform' | 'target' | 'logLevel' | 'sourcemap' | 'tsconfigRaw' | 'define'
>;

/**
 * The placeholders esbuild writes for the `import.meta` expressions {@link finishModule} pins.
 * (Spelled in two parts: this module is transpiled too, and a whole name here would be pinned.)
 */
export const META_NAMES = {
  url: `${'__concert'}ImportMetaUrl`,
  filename: `${'__concert'}ImportMetaFilename`,
  dirname: `${'__concert'}ImportMetaDirname`,
};

const metaDefine = Object.fromEntries(
  Object.entries(META_NAMES).map(([property, name]) => [`import.meta.${property}`, name]),
);
const metaPattern = (name: string) => new RegExp(`\\b${name}\\b`, 'g');
const META_PATTERNS = {
  url: metaPattern(META_NAMES.url),
  filename: metaPattern(META_NAMES.filename),
  dirname: metaPattern(META_NAMES.dirname),
};

/**
 * The esbuild options for one kind of source. bin/concert repeats the package kind's for the
 * loader it runs first, without `define`: that copy keeps `import.meta` as it is.
 */
export function esbuildOptions(kind: SourceKind): CommonOptions {
  return {
    format: 'esm',
    platform: 'node',
    target: 'node20',
    logLevel: 'silent',
    sourcemap: kind === 'session' ? 'inline' : false,
    tsconfigRaw: { compilerOptions: { verbatimModuleSyntax: kind === 'package', useDefineForClassFields: true } },
    define: metaDefine,
  };
}

/** Maps one import specifier; undefined leaves it as written. */
export type Rewrite = (specifier: string) => string | undefined;

// `from "x"`, `import("x")`, `import "x"` as esbuild prints them (it normalises quotes and spacing).
const specifierPattern = /(\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)(["'])([^"'\n]+)\2/g;

// Static imports only: `from "x"` (import and export … from) and `import "x"`.
const staticPattern = /(\bfrom\s*|\bimport\s+)(["'])([^"'\n]+)\2/g;

/** The specifiers of the static imports in esbuild's output (what loads with the module). */
export function staticImportSpecifiers(js: string): string[] {
  return [...js.matchAll(staticPattern)].map((m) => m[3]!);
}

/** Every static and literal dynamic import specifier in esbuild's output. */
export function importSpecifiers(js: string): string[] {
  return [...js.matchAll(specifierPattern)].map((m) => m[3]!);
}

/**
 * Finishes esbuild's output for `file`: pins `import.meta.url`/`.filename`/`.dirname` to the
 * source file and rewrites import specifiers with `rewrite`.
 */
export function finishModule(js: string, file: string, rewrite?: Rewrite): string {
  let out = js
    .replace(META_PATTERNS.url, JSON.stringify(pathToFileURL(file).href))
    .replace(META_PATTERNS.filename, JSON.stringify(file))
    .replace(META_PATTERNS.dirname, JSON.stringify(dirname(file)));
  if (rewrite)
    out = out.replace(specifierPattern, (whole, lead: string, quote: string, specifier: string) => {
      const to = rewrite(specifier);
      return to === undefined ? whole : `${lead}${quote}${to}${quote}`;
    });
  return out;
}

/** A syntax error in a file being loaded, with its location (line 1-based, column 0-based, as esbuild gives). */
export class TranspileError extends SyntaxError {
  override name = 'SyntaxError';
  constructor(
    message: string,
    readonly errors: ReadonlyArray<{ text: string; location?: { file: string; line: number; column: number } }>,
  ) {
    super(message);
  }
}

/**
 * What the cache holds for a file that does not transpile: a module that throws its error
 * (`file:line:column: message`) when it runs.
 */
export function brokenModule(message: string): string {
  return `throw new SyntaxError(${JSON.stringify(message)});\n`;
}

/** The message of a module {@link brokenModule} wrote, or undefined for any other module text. */
export function brokenModuleMessage(text: string): string | undefined {
  const thrown = /^throw new SyntaxError\(("(?:[^"\\]|\\.)*")\);\n/.exec(text);
  return thrown ? (JSON.parse(thrown[1]!) as string) : undefined;
}

/** esbuild's failure as a {@link TranspileError} naming `file`. */
export function transpileError(error: unknown, file: string): unknown {
  const errors = (error as { errors?: Array<{ text: string; location?: { line: number; column: number } | null }> })
    ?.errors;
  if (!Array.isArray(errors) || errors.length === 0) return error;
  const first = errors[0]!;
  const where = first.location ? `${file}:${first.location.line}:${first.location.column + 1}` : file;
  return new TranspileError(
    `${where}: ${first.text}`,
    errors.map((e) => ({
      text: e.text,
      location: e.location ? { file, line: e.location.line, column: e.location.column } : undefined,
    })),
  );
}
