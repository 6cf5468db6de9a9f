/**
 * The start bundle: the modules every `concert start` loads, in one CommonJS file of the cache
 * (`start-bundle-<key>.cjs`), so node reads, resolves and compiles one file instead of a hundred,
 * and compiles it from the V8 code cache (code-cache.ts), which ES modules cannot use on Node 20.
 *
 * One copy of each module, whoever imports it: the main thread loads the package from a view of
 * the cache, `m/`, in which each module of the bundle is a facade that exports its names as the
 * bundle has them, and every other module is the transpiled module itself, whose relative
 * imports then reach the facades. Session files, the prompt, modules loaded later (the bundle's
 * `import()` calls, routed through the loader: see IMPORT_HELPER) and `concert/…` specifiers all
 * point into `m/`. The loader's own modules (`session/loader/`) stay outside both: bin/concert
 * loads them from the cache before any of this, and they import nothing else of the package.
 *
 * Which modules: the static imports reachable from {@link START_ENTRIES} (and those of
 * {@link START_SEEDS}, without the seeds themselves). A module whose names the shapes cannot
 * tell (barrels.ts) stays out, with what imports it. When the bundle cannot be made, `m/` holds
 * the modules alone and the start is only slower.
 * @module
 * @internal
 */
import { basename, dirname, join, resolve as resolvePath, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Plugin } from 'esbuild';
import type { Shape } from './barrels.js';
import { cacheKey, specifierFrom } from './files.js';
import { staticImportSpecifiers } from './transform.js';

/** What `concert start` loads before the first prompt, and the commands around it. */
export const START_ENTRIES: readonly string[] = [
  'session/cli/main.ts',
  'session/cli/start.ts',
  'session/errors.ts',
  'session/shutdown.ts',
  'session/helpers.ts',
  'session/progress.ts',
  'session/repl/index.ts',
  'core/index.ts',
  'core/worker.ts',
];

/** Package files whose static imports join the bundle, without them: the demo session. */
export const START_SEEDS: readonly string[] = ['sessions/demo.ts'];

/** The main thread's view of the cache (a folder of the cache). */
export const MAIN_TREE = 'm';

/**
 * The bundle's file in the cache: `start-bundle-<key of its text>.cjs`. A facade names the one
 * bundle it was made with, so a `concert` that starts while another one remakes the cache never
 * takes names from a bundle of other facades.
 */
export const BUNDLE_FILE = /^start-bundle-[0-9a-f]{16}\.cjs$/;

/** True for a start bundle's file (a path). */
export function isBundleFile(path: string): boolean {
  return BUNDLE_FILE.test(basename(path));
}

/** True if `js` (a module of `m/`) is a facade of a start bundle. */
export function isFacade(js: string): boolean {
  return new RegExp(BUNDLE_FILE.source.slice(1, -1)).test(js);
}

/** Where the cache folder `dir` holds the transpiled module of source `rel`. */
export function cachedPath(dir: string, rel: string): string {
  return join(dir, rel.replace(/\.ts$/, '.js'));
}

/** True for the loader's own modules, which are loaded as they are transpiled. */
export function isLoaderModule(rel: string): boolean {
  return rel.startsWith(`session${sep}loader${sep}`);
}

/** The names module `rel` exports, following `export *` (undefined: the shapes cannot tell). */
export function exportNames(
  shapes: Record<string, Shape>,
  rel: string,
  seen = new Set<string>(),
): Set<string> | undefined {
  const shape = shapes[rel];
  if (!shape || shape.opaque || seen.has(rel)) return undefined;
  seen.add(rel);
  const names = new Set(Object.keys(shape.names));
  const starred = new Map<string, number>();
  for (const star of shape.stars) {
    if (star === null) return undefined;
    const more = exportNames(shapes, star, seen);
    if (!more) return undefined;
    for (const name of more) if (name !== 'default') starred.set(name, (starred.get(name) ?? 0) + 1);
  }
  for (const [name, count] of starred) {
    // Two stars with one name: node leaves it out of the module (ambiguous); so must the facade.
    if (names.has(name)) continue;
    if (count > 1) return undefined;
    names.add(name);
  }
  seen.delete(rel);
  return names;
}

/** Where the cache is and what it holds, for {@link startMembers} and {@link buildStartBundle}. */
export interface StartBundleInput {
  /** The cache folder. */
  dir: string;
  /** The package's sources (relative paths, `.ts`). */
  sources: ReadonlySet<string>;
  /** Each source's shape. */
  shapes: Record<string, Shape>;
  /** The transpiled text of a source. */
  text(rel: string): string;
  entries?: readonly string[];
  seeds?: readonly string[];
}

/** The source a specifier written in the transpiled `from` names (an `m/` or cache URL, a relative path). */
export function moduleOf(specifier: string, from: string | undefined, input: StartBundleInput): string | undefined {
  let path: string;
  if (specifier.startsWith('file:')) path = fileURLToPath(specifier);
  else if (specifier.startsWith('/')) path = specifier;
  else if ((specifier.startsWith('./') || specifier.startsWith('../')) && from !== undefined)
    path = resolvePath(input.dir, dirname(from), specifier);
  else return undefined;
  return sourceAt(path, input);
}

/** The source whose cached module (in the cache or `m/`) is at `path`. */
function sourceAt(path: string, input: StartBundleInput): string | undefined {
  const main = join(input.dir, MAIN_TREE) + sep;
  let rel: string;
  if (path.startsWith(main)) rel = path.slice(main.length);
  else if (path.startsWith(input.dir + sep)) rel = path.slice(input.dir.length + 1);
  else return undefined;
  rel = rel.replace(/\.js$/, '.ts');
  return input.sources.has(rel) ? rel : undefined;
}

/** The modules of the bundle, in the order it runs them (entries first). */
export function startMembers(input: StartBundleInput): string[] {
  const members = new Set<string>();
  const excluded = new Set<string>();
  const importsOf = new Map<string, string[]>();
  const visit = (rel: string, member: boolean) => {
    if (members.has(rel) || excluded.has(rel)) return;
    if (member && (isLoaderModule(rel) || !exportNames(input.shapes, rel))) {
      excluded.add(rel);
      return;
    }
    if (member) members.add(rel);
    const deps: string[] = [];
    for (const specifier of staticImportSpecifiers(input.text(rel))) {
      const dep = moduleOf(specifier, rel, input);
      if (dep !== undefined) deps.push(dep);
    }
    importsOf.set(rel, deps);
    for (const dep of deps) visit(dep, true);
  };
  for (const rel of input.entries ?? START_ENTRIES) if (input.sources.has(rel)) visit(rel, true);
  for (const rel of input.seeds ?? START_SEEDS) if (input.sources.has(rel)) visit(rel, false);
  // A module that imports one left out stays out too: it would run before the bundle had finished.
  let changed = true;
  while (changed) {
    changed = false;
    for (const rel of members)
      if (importsOf.get(rel)!.some((dep) => excluded.has(dep) && !isLoaderModule(dep))) {
        members.delete(rel);
        excluded.add(rel);
        changed = true;
      }
  }
  return [...members];
}

/** The bundle, its file name and a facade (its text for `m/`) for each module in it. */
export interface StartBundle {
  bundle: string;
  file: string;
  facades: Map<string, string>;
}

/** A module's path in the main thread's view (the loader's modules: their own). */
export function mainPath(dir: string, rel: string): string {
  return cachedPath(isLoaderModule(rel) ? dir : join(dir, MAIN_TREE), rel);
}

// A class declared at the start of a line (esbuild's output). Its name is pinned with a static
// block: the bundle renames classes whose names clash across modules (`Camera2`), and devices
// take their names from their classes. (esbuild's keepNames would also wrap every named closure
// in a call, on hot paths too.)
// (To the line's last brace: lowered decorators put braces in the `extends` expression.)
const CLASS_LINE = /^((?:export\s+)?(?:default\s+)?class\s+([\w$]+)\b[^\n]*\{)[ \t]*$/gm;

/** `js` with each top-level class's name pinned (see CLASS_LINE). */
export function pinClassNames(js: string): string {
  return js.replace(
    CLASS_LINE,
    (_, head: string, name: string) =>
      `${head} static { Object.defineProperty(this, "name", { value: ${JSON.stringify(name)}, configurable: true }); }`,
  );
}

/**
 * Where boot.ts leaves the loader's module (its index) for the bundle: the bundle is CommonJS,
 * and CommonJS cannot require the loader's ES modules, so it reads them from here.
 */
export const LOADER_KEY = 'concert.loader';

/** A facade: the names of module `i` of the bundle, exported under their own names. */
function facadeText(rel: string, i: number, names: string[], bundle: string): string {
  return [
    `// ${rel} runs in the start bundle (session/loader/start-bundle.ts).`,
    `import { createRequire } from "node:module";`,
    `const bundle = createRequire(import.meta.url)(${JSON.stringify(bundle)});`,
    // Locals by index: an export name may be a reserved word.
    ...names.map((n, k) => `const e${k} = bundle.${bundleName(i, n)};`),
    names.length ? `export { ${names.map((n, k) => `e${k} as ${n}`).join(', ')} };` : '',
    '',
  ].join('\n');
}

/** The bundle's export of name `name` of its module `i`. */
function bundleName(i: number, name: string): string {
  return `m${i}$${name}`;
}

/**
 * Bundles `members` with esbuild into one CommonJS file, compiled with the V8 code cache like
 * the big dependencies (code-cache.ts: ≈ 15 ms less compiling at every start), and writes each
 * one's facade. Throws where esbuild cannot (a top-level `await`, which CommonJS does not have).
 */
export async function buildStartBundle(
  esbuild: typeof import('esbuild'),
  input: StartBundleInput,
  members: readonly string[],
): Promise<StartBundle> {
  const { dir } = input;
  const inBundle = new Set(members);
  const names = members.map((rel) => [...exportNames(input.shapes, rel)!]);
  const entry = members.map((rel, i) => {
    const real = JSON.stringify(cachedPath(dir, rel));
    return names[i]!.length
      ? `export { ${names[i]!.map((n) => `${n} as ${bundleName(i, n)}`).join(', ')} } from ${real};`
      : `import ${real};`;
  });
  const plugin: Plugin = {
    name: 'concert-start-bundle',
    setup(build) {
      build.onResolve({ filter: /.*/ }, (args) => {
        if (args.kind === 'entry-point') return undefined;
        const isPath = /^(?:file:|\/|\.\.?\/)/.test(args.path);
        if (!isPath) return undefined; // a dependency or node's own: external (packages: 'external')
        const path = args.path.startsWith('file:') ? fileURLToPath(args.path) : resolvePath(args.resolveDir, args.path);
        const rel = sourceAt(path, input);
        if (rel !== undefined && isLoaderModule(rel) && args.kind !== 'dynamic-import')
          return { path: 'loader', namespace: 'concert-loader' };
        if (rel === undefined)
          return path.startsWith(dir + sep)
            ? { path: specifierFrom(dir, path.replace(/(\.cjs|\.js)$/, '.cjs')), external: true } // deps/zod.cjs
            : { path: pathToFileURL(path).href, external: true };
        if (inBundle.has(rel) && args.kind !== 'dynamic-import') return { path: cachedPath(dir, rel) };
        return { path: specifierFrom(dir, mainPath(dir, rel)), external: true };
      });
      build.onLoad({ filter: /.*/, namespace: 'concert-loader' }, () => ({
        contents: `module.exports = globalThis[Symbol.for(${JSON.stringify(LOADER_KEY)})] ?? {};`,
        loader: 'js',
      }));
      build.onLoad({ filter: /\.js$/ }, (args) => {
        const rel = sourceAt(args.path, input);
        return rel === undefined ? undefined : { contents: pinClassNames(input.text(rel)), loader: 'js' };
      });
    },
  };
  const result = await esbuild.build({
    stdin: { contents: entry.join('\n'), resolveDir: dir, sourcefile: 'start-entry.js', loader: 'js' },
    bundle: true,
    format: 'cjs',
    // (the modules were ES modules: strict mode, as they had; and `import()` as below)
    banner: { js: `"use strict";\n${IMPORT_HELPER}` },
    platform: 'node',
    target: 'node20',
    // (so esbuild writes every `import()` in one form, which routeDynamicImports then routes)
    supported: { 'dynamic-import': false },
    packages: 'external',
    logLevel: 'silent',
    write: false,
    outfile: join(dir, 'start-bundle.cjs'),
    plugins: [plugin],
  });
  const bundle = routeDynamicImports(result.outputFiles[0]!.text);
  const file = `start-bundle-${cacheKey(bundle)}.cjs`;
  const facades = new Map<string, string>();
  members.forEach((rel, i) =>
    facades.set(rel, facadeText(rel, i, names[i]!, specifierFrom(dirname(mainPath(dir, rel)), join(dir, file)))),
  );
  return { bundle, file, facades };
}

/**
 * The function the bundle's `import()` calls become: V8 drops what node needs for `import()` in
 * a script compiled from a code cache (nodejs/node#43663; code-cache.ts compiles the bundle so),
 * so the loader's ES module does the importing: a relative specifier from the bundle's own
 * location (esbuild wrote them so), any other as written.
 */
const IMPORT_HELPER = [
  `const __concertBase = require("node:url").pathToFileURL(__filename).href;`,
  `const __concertImport = (specifier) => globalThis[Symbol.for(${JSON.stringify(LOADER_KEY)})].importModule(`,
  `  typeof specifier === "string" && /^\\.\\.?\\//.test(specifier) ? new URL(specifier, __concertBase).href : specifier);`,
].join('\n');

// How esbuild writes `import(x)` where it is told the target has none (`supported` below).
const LOWERED_IMPORT = 'Promise.resolve().then(() => __toESM(require(';

/**
 * `js` (esbuild's output) with each `import(…)`, which esbuild lowered to a `require` (see
 * LOWERED_IMPORT), made a call of `__concertImport` (IMPORT_HELPER) instead.
 */
export function routeDynamicImports(js: string): string {
  return js.split(LOWERED_IMPORT).join('Promise.resolve().then(() => __concertImport((');
}
