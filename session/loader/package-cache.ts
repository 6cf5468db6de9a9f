/**
 * The transpile cache of the package: every TypeScript source of the package transpiled once into
 * a mirror of the source tree (`node_modules/.cache/concert/` by default), loaded from there as
 * plain ES modules — no loader hooks, no loader thread, no transpiling at a normal start. Each
 * start compares every source's mtime and size with the manifest and transpiles what changed.
 *
 * Dependencies that ship as a tree of many small ES modules ({@link BUNDLED_DEPENDENCIES}: zod's
 * hundred files) are bundled by esbuild into one CommonJS file of the cache, `deps/<name>.cjs`,
 * behind a small ES module `deps/<name>.js` that requires it and re-exports its names; the
 * package's and session files' imports of them point there. Node then reads, resolves and
 * compiles one file instead of a hundred (zod: ≈ 35 ms less CPU at every start), and, being
 * CommonJS, the bundle is compiled with the V8 code cache (code-cache.ts; ES modules cannot use
 * it on Node 20): ≈ 50 ms less again. The bundle is made again when the dependency's
 * package.json changes (an update).
 * @module
 * @internal
 */
import { existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve as resolvePath, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { rewriteBarrelImports, shapeChanges, shapeOf, type Shape } from './barrels.js';
import { cacheKey, packageSources, specifierFrom, writeAtomic } from './files.js';
import { isConcertSpecifier, resolveConcert, type ExportsMap } from './resolve.js';
import {
  BUNDLE_FILE,
  buildStartBundle,
  cachedPath,
  isFacade,
  isLoaderModule,
  MAIN_TREE,
  mainPath,
  startMembers,
  type StartBundleInput,
} from './start-bundle.js';
import { brokenModule, esbuildOptions, finishModule, transpileError } from './transform.js';

/** Bump when the cached output changes shape (a new transpiler, new options): everything is redone. */
export const CACHE_VERSION = 10;

/**
 * Dependencies loaded from one bundled module of the cache (see the module comment). Only the bare
 * name is mapped (`zod`, not `zod/v4/core`): every import of it gets the one bundle.
 */
export const BUNDLED_DEPENDENCIES: readonly string[] = ['zod'];

interface Manifest {
  version: number;
  /** Relative source path → [mtimeMs, size] when it was transpiled. */
  files: Record<string, [number, number]>;
  /** Bundled dependency → the `mtimeMs:size` of its package.json when it was bundled. */
  bundles?: Record<string, string>;
  /** A hash of shapes.json (barrels.ts), which session files' imports were rewritten with. */
  shapes?: string;
  /** The main thread's view (`m/`) and the start bundle were made for these files (start-bundle.ts). */
  main?: boolean;
}

/** shapes.json: each source's {@link Shape}, and the names each imports through barrels. */
interface Shapes {
  shapes: Record<string, Shape>;
  uses: Record<string, string[]>;
  /** There was no shapes.json to read. */
  missing: boolean;
}

/** What {@link PackageCache.refresh} did. */
export interface RefreshResult {
  /** Sources transpiled this time (0 at a normal start). */
  transpiled: number;
  /** Sources of the package. */
  total: number;
  ms: number;
}

/** Options of {@link PackageCache.refresh}. */
export interface RefreshOptions {
  /** Called before transpiling when `count` sources (of `total`) must be transpiled. */
  onTranspile?: (count: number, total: number) => void;
}

/** The package's transpile cache in `dir` for the package at `root`. */
export class PackageCache {
  readonly root: string;
  readonly dir: string;
  readonly exportsMap: ExportsMap;
  #sources = new Set<string>();
  /** The bundled dependencies in the cache (known after {@link refresh}). */
  #bundled = new Set<string>();
  /** shapes.json, read when first needed. */
  #shapes: Shapes | undefined;
  /** The hash of the shapes (after {@link refresh}): session files transpiled with others are redone. */
  shapesStamp = '';
  /** The start bundle's entries and seeds (start-bundle.ts; the package's by default). */
  readonly #start: Pick<StartBundleInput, 'entries' | 'seeds'>;

  constructor(root: string, dir: string, start: Pick<StartBundleInput, 'entries' | 'seeds'> = {}) {
    this.root = resolvePath(root);
    this.dir = resolvePath(dir);
    this.#start = start;
    const manifest = JSON.parse(readFileSync(join(this.root, 'package.json'), 'utf8')) as { exports?: ExportsMap };
    this.exportsMap = manifest.exports ?? {};
  }

  get #manifestPath(): string {
    return join(this.dir, 'manifest.json');
  }

  #readManifest(): Manifest {
    try {
      const read = JSON.parse(readFileSync(this.#manifestPath, 'utf8')) as Manifest;
      if (read.version === CACHE_VERSION && read.files) return read;
    } catch {
      // first start, or a cache of another version
    }
    return { version: CACHE_VERSION, files: {} };
  }

  /** Transpiles the sources that changed since the last start (all of them the first time). */
  async refresh(options: RefreshOptions = {}): Promise<RefreshResult> {
    const t0 = performance.now();
    const manifest = this.#readManifest();
    const seen: Manifest['files'] = {};
    const stale: string[] = [];
    // The manifest alone says what is in the cache (delete it, or the cache, to start afresh).
    const prefix = this.root + sep;
    for (const rel of packageSources(this.root)) {
      const st = statSync(prefix + rel);
      seen[rel] = [st.mtimeMs, st.size];
      const old = manifest.files[rel];
      if (!old || old[0] !== st.mtimeMs || old[1] !== st.size) stale.push(rel);
    }
    this.#sources = new Set(Object.keys(seen));
    const total = this.#sources.size;
    if (!existsSync(join(this.dir, 'package.json')))
      writeAtomic(join(this.dir, 'package.json'), '{ "type": "module" }\n');
    const bundles = this.#bundleStamps();
    this.#bundled = new Set(Object.keys(bundles));
    const staleBundles = Object.keys(bundles).filter(
      (name) =>
        manifest.bundles?.[name] !== bundles[name] ||
        !existsSync(this.#bundlePath(name)) ||
        !existsSync(this.#bundlePath(name).replace(/\.js$/, '.cjs')),
    );
    const changed = stale.length > 0 || staleBundles.length > 0 || Object.keys(manifest.files).length !== total;
    if (changed || !manifest.main) {
      if (stale.length) options.onTranspile?.(stale.length, total);
      await this.#transpile(stale, staleBundles);
    }
    this.shapesStamp = manifest.shapes ?? '';
    if (changed || !manifest.main) {
      if (this.#shapes) this.shapesStamp = this.#saveShapes(this.#shapes);
      const made = Object.fromEntries(Object.entries(bundles).filter(([name]) => this.#bundled.has(name)));
      writeAtomic(
        this.#manifestPath,
        JSON.stringify({
          version: CACHE_VERSION,
          files: seen,
          bundles: made,
          shapes: this.shapesStamp,
          main: true,
        } satisfies Manifest),
      );
    }
    return { transpiled: stale.length, total, ms: performance.now() - t0 };
  }

  /** The bundled dependencies that are installed, each with the stamp of its package.json. */
  #bundleStamps(): Record<string, string> {
    const stamps: Record<string, string> = {};
    for (const name of BUNDLED_DEPENDENCIES) {
      try {
        const st = statSync(join(this.root, 'node_modules', name, 'package.json'));
        stamps[name] = `${st.mtimeMs}:${st.size}`;
      } catch {
        // not installed: its imports stay as written (and fail as node reports it)
      }
    }
    return stamps;
  }

  #bundlePath(name: string): string {
    return join(this.dir, 'deps', `${name}.js`);
  }

  /**
   * The URL to import for the bare specifier `specifier` when it names a bundled dependency
   * (undefined otherwise: node resolves it).
   */
  dependencyUrl(specifier: string): string | undefined {
    if (!BUNDLED_DEPENDENCIES.includes(specifier) || !this.#bundled.has(specifier)) return undefined;
    return pathToFileURL(this.#bundlePath(specifier)).href;
  }

  async #transpile(rels: string[], bundles: string[]): Promise<void> {
    const esbuild = await import('esbuild');
    try {
      // The bundles first: the files transpiled next import them.
      for (const name of bundles) {
        try {
          const cjs = this.#bundlePath(name).replace(/\.js$/, '.cjs');
          const result = await esbuild.build({
            ...esbuildOptions('package'),
            define: {}, // a dependency's import.meta is CommonJS's: not pinned
            format: 'cjs',
            entryPoints: [name],
            absWorkingDir: this.root,
            bundle: true,
            write: false,
            outfile: cjs,
          });
          writeAtomic(cjs, result.outputFiles[0]!.contents);
          writeAtomic(this.#bundlePath(name), bundleWrapper(cjs));
        } catch {
          // Only slower: its imports stay as written, and the next start tries again.
          this.#bundled.delete(name);
        }
      }
      const redo = new Set(rels);
      const raw = await this.#esbuildOutputs(esbuild, rels);
      // The shapes of the new outputs. Where names were added, removed or moved, the files that
      // import one of them through a barrel are redone too; everything when a barrel changed.
      const stored = this.#loadShapes();
      const { shapes, uses } = stored;
      let all = stored.missing;
      const names = new Set<string>();
      for (const [rel, js] of raw) {
        const shape = shapeOf(js, (s) => this.#moduleKey(s, rel));
        const changes = shapeChanges(shapes[rel], shape);
        if (changes === 'all') all = true;
        else for (const name of changes) names.add(name);
        shapes[rel] = shape;
      }
      for (const rel of Object.keys(shapes))
        if (!this.#sources.has(rel)) {
          delete shapes[rel];
          delete uses[rel];
          all = true;
        }
      const others = [...this.#sources].filter(
        (rel) => !raw.has(rel) && (all || !uses[rel] || uses[rel].some((name) => names.has(name))),
      );
      for (const [rel, js] of await this.#esbuildOutputs(esbuild, others)) {
        raw.set(rel, js);
        shapes[rel] ??= shapeOf(js, (s) => this.#moduleKey(s, rel));
      }
      for (const [rel, js] of raw) {
        const imported = new Set<string>();
        const through = rewriteBarrelImports(
          js,
          shapes,
          (s) => this.#moduleKey(s, rel),
          (key) => relativeSpecifier(rel, key),
          (name) => imported.add(name),
        );
        uses[rel] = [...imported];
        const out = this.#outPath(rel);
        const text = finishModule(through, join(this.root, rel), (s) => this.#rewrite(s));
        // (a file redone only for the new shapes is left alone when its output is the same)
        if (!redo.has(rel) && existsSync(out) && readFileSync(out, 'utf8') === text) continue;
        writeAtomic(out, text);
      }
      await this.#writeMainTree(esbuild, shapes);
    } finally {
      // Stop esbuild's child process: a Ctrl-C at the prompt would kill it under our feet.
      await esbuild.stop();
    }
  }

  /**
   * The main thread's view of the cache (`m/`, start-bundle.ts): the start bundle's facades, and
   * every other module as transpiled. Files already as they should be are left alone.
   */
  async #writeMainTree(esbuild: typeof import('esbuild'), shapes: Record<string, Shape>): Promise<void> {
    const texts = new Map<string, string>();
    const text = (rel: string) => {
      let js = texts.get(rel);
      if (js === undefined) texts.set(rel, (js = readFileSync(this.#outPath(rel), 'utf8')));
      return js;
    };
    const input = this.#startInput(shapes, text);
    let facades = new Map<string, string>();
    let bundle: string | undefined;
    const members = startMembers(input);
    if (members.length)
      try {
        const built = await buildStartBundle(esbuild, input, members);
        writeAtomic(join(this.dir, built.file), built.bundle);
        facades = built.facades;
        bundle = built.file;
      } catch (error) {
        // Only slower: `m/` then holds the modules themselves.
        if (process.env.CONCERT_DEBUG) process.stderr.write(`concert: no start bundle: ${String(error)}\n`);
      }
    for (const rel of this.#sources) {
      const path = cachedPath(join(this.dir, MAIN_TREE), rel);
      // The loader's modules are the ones bin/concert loaded: `m/` only points there.
      const want = isLoaderModule(rel)
        ? `export * from ${JSON.stringify(relativeSpecifier(join(MAIN_TREE, rel), rel))};\n`
        : (facades.get(rel) ?? text(rel));
      if (existsSync(path) && readFileSync(path, 'utf8') === want) continue;
      writeAtomic(path, want);
    }
    this.#removeBundlesBut(bundle);
  }

  /** Removes the start bundles of earlier versions of the cache, once no facade names them. */
  #removeBundlesBut(file: string | undefined): void {
    for (const name of readdirSync(this.dir))
      if (name !== file && BUNDLE_FILE.test(name)) rmSync(join(this.dir, name), { force: true });
  }

  #startInput(shapes: Record<string, Shape>, text: (rel: string) => string): StartBundleInput {
    return { dir: this.dir, sources: this.#sources, shapes, text, ...this.#start };
  }

  /**
   * The modules the start bundle holds (start-bundle.ts), as the cache's files say after a
   * {@link refresh}; none when the main thread's view holds facades of none.
   */
  startBundleModules(): string[] {
    const input = this.#startInput(this.#loadShapes().shapes, (rel) => readFileSync(this.#outPath(rel), 'utf8'));
    return startMembers(input).filter((rel) => {
      try {
        return isFacade(readFileSync(mainPath(this.dir, rel), 'utf8'));
      } catch {
        return false;
      }
    });
  }

  /** esbuild's output for each of `rels`, by rel (a file that does not compile throws its error when loaded). */
  async #esbuildOutputs(esbuild: typeof import('esbuild'), rels: string[]): Promise<Map<string, string>> {
    const byRel = new Map<string, string>();
    if (!rels.length) return byRel;
    const files = rels.map((rel) => join(this.root, rel));
    let outputs: Map<string, string>;
    try {
      const result = await esbuild.build({
        ...esbuildOptions('package'),
        entryPoints: files,
        outbase: this.root,
        outdir: this.dir,
        bundle: false,
        write: false,
      });
      outputs = new Map(result.outputFiles.map((f) => [f.path, f.text]));
    } catch {
      // A broken file fails the whole build: transpile one by one, so only that one fails.
      outputs = new Map();
      for (const file of files) {
        const rel = relative(this.root, file);
        try {
          const r = await esbuild.transform(readFileSync(file, 'utf8'), {
            ...esbuildOptions('package'),
            sourcefile: file,
            loader: 'ts',
          });
          outputs.set(this.#outPath(rel), r.code);
        } catch (error) {
          // Loading it throws the same error, naming the file and line.
          const e = transpileError(error, file);
          outputs.set(this.#outPath(rel), brokenModule(e instanceof Error ? e.message : String(e)));
        }
      }
    }
    for (const rel of rels) {
      const js = outputs.get(this.#outPath(rel));
      if (js === undefined) throw new Error(`the transpiler gave no output for ${rel}`);
      byRel.set(rel, js);
    }
    return byRel;
  }

  get #shapesPath(): string {
    return join(this.dir, 'shapes.json');
  }

  #loadShapes(): Shapes {
    if (!this.#shapes) {
      try {
        const read = JSON.parse(readFileSync(this.#shapesPath, 'utf8')) as Shapes;
        this.#shapes = { shapes: read.shapes ?? {}, uses: read.uses ?? {}, missing: false };
      } catch {
        // none yet (or unreadable): every file is redone with the shapes made now
        this.#shapes = { shapes: {}, uses: {}, missing: true };
      }
    }
    return this.#shapes;
  }

  /** Writes shapes.json; returns its hash. */
  #saveShapes(stored: Shapes): string {
    writeAtomic(this.#shapesPath, JSON.stringify({ shapes: stored.shapes, uses: stored.uses }));
    stored.missing = false;
    // (of the shapes alone: what session files' rewrites depend on)
    return cacheKey(JSON.stringify(stored.shapes));
  }

  /** The source (relative to the root) that `specifier`, written in source `from`, names, if it is one of the package's. */
  #moduleKey(specifier: string, from?: string): string | undefined {
    let rel: string;
    if (isConcertSpecifier(specifier)) {
      try {
        rel = relative(this.root, resolveConcert(specifier, this.root, this.exportsMap));
      } catch {
        return undefined;
      }
    } else if (from !== undefined && (specifier.startsWith('./') || specifier.startsWith('../')))
      rel = join(dirname(from), specifier).replace(/\.js$/, '.ts');
    else return undefined;
    return this.#sources.has(rel) ? rel : undefined;
  }

  /**
   * `js` (esbuild's output of a session file) with its imports of names through the package's
   * barrels (`concert`, `concert/addons/local`) pointed at the modules that define them.
   */
  throughBarrels(js: string): string {
    return rewriteBarrelImports(
      js,
      this.#loadShapes().shapes,
      (s) => this.#moduleKey(s),
      (key) => this.urlOf(key),
    );
  }

  /**
   * Package files may import `concert/…` too (sessions/demo.ts does): point those at the cache,
   * and bundled dependencies at their bundle.
   */
  #rewrite(specifier: string): string | undefined {
    return isConcertSpecifier(specifier) ? this.concertUrl(specifier) : this.dependencyUrl(specifier);
  }

  #outPath(rel: string): string {
    return cachedPath(this.dir, rel);
  }

  /** True if `file` (absolute) is one of the package sources this cache holds. */
  holds(file: string): boolean {
    const path = resolvePath(file);
    if (!path.startsWith(this.root + sep) || path.includes(`${sep}node_modules${sep}`)) return false;
    return this.#sources.has(relative(this.root, path));
  }

  /**
   * The URL to import for a source of the package (absolute, or relative to the root): its module
   * in the main thread's view of the cache (start-bundle.ts).
   */
  urlOf(file: string): string {
    return pathToFileURL(mainPath(this.dir, relative(this.root, resolvePath(this.root, file)))).href;
  }

  /**
   * The URL to import for `concert` / `concert/…`: the cached module of an exported TypeScript
   * file, or the exported file itself.
   * @throws ModuleNotFoundError when the package does not export it.
   */
  concertUrl(specifier: string): string {
    const file = resolveConcert(specifier, this.root, this.exportsMap);
    return file.endsWith('.ts') ? this.urlOf(file) : pathToFileURL(file).href;
  }
}

/**
 * The ES module in front of the CommonJS bundle `cjs`: requires it (so the code cache compiles
 * it) and exports each of its names, and its `default`, as the dependency's own ES module does.
 */
export function bundleWrapper(cjs: string): string {
  const require = createRequire(cjs);
  const exports = require(cjs) as Record<string, unknown>;
  delete require.cache[cjs]; // an update in this process is read afresh
  const names = Object.keys(exports).filter((n) => n !== 'default' && /^[A-Za-z_$][\w$]*$/.test(n));
  // (an absolute path: the wrapper names the very file it was made from)
  const file = JSON.stringify(cjs);
  // Locals by index: export names may be reserved words (zod exports `catch`, `enum`, `null`).
  return [
    `import { createRequire } from 'node:module';`,
    `const bundle = createRequire(${file})(${file});`,
    ...names.map((n, i) => `const e${i} = bundle.${n};`),
    names.length ? `export { ${names.map((n, i) => `e${i} as ${n}`).join(', ')} };` : '',
    `export default 'default' in bundle ? bundle.default : bundle;`,
    '',
  ].join('\n');
}

/** The specifier that source `from` writes for source `to` (both relative to the root): `./x.js`, `../core/y.js`. */
function relativeSpecifier(from: string, to: string): string {
  return specifierFrom(dirname(from), to).replace(/\.ts$/, '.js');
}
