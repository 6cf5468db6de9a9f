// Start-up of the `concert` command (plain JavaScript: it runs before TypeScript can be loaded).
//
// Fast path: the package's TypeScript files are transpiled once (TypeScript's transpileModule,
// types stripped, decorators lowered) into node_modules/.cache/concert/, mirroring the source
// tree, and loaded from there as plain ES modules: no loader hooks, no loader thread, no per-start
// transpiling. Each start re-checks every source file's mtime and size and re-transpiles what
// changed. Session files (anywhere on disk) are transpiled the same way, with `concert` and
// `concert/…` imports rewritten to the cached package files; `import.meta.url` keeps pointing at
// the source file, and inline source maps put session lines in stack traces.
//
// Fallback (cache not writable, or CONCERT_LOADER=tsx): tsx plus the resolve hook in
// resolve-hook.mjs.
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  statSync,
  writeFileSync,
  accessSync,
  constants,
} from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, extname, join, relative, resolve as resolvePath, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('../', import.meta.url));
const require = createRequire(import.meta.url);
const CACHE_VERSION = 1;
const skipDirs = new Set(['node_modules', 'test', 'bench', 'docs', 'scripts']);

let ts;
function typescript() {
  ts ??= require('typescript');
  return ts;
}

/** Transpiles one TypeScript source to an ES module; `rewrite` may change import specifiers. */
function transpile(source, file, { verbatim, rewrite }) {
  const t = typescript();
  const out = t.transpileModule(source, {
    fileName: file,
    reportDiagnostics: true,
    compilerOptions: {
      target: t.ScriptTarget.ES2022,
      module: t.ModuleKind.ESNext,
      verbatimModuleSyntax: verbatim,
      inlineSourceMap: true,
      removeComments: false,
    },
  });
  const diagnostic = out.diagnostics?.find((d) => d.category === t.DiagnosticCategory.Error);
  if (diagnostic) {
    const { line, character } = t.getLineAndCharacterOfPosition(
      diagnostic.file ?? t.createSourceFile(file, source, t.ScriptTarget.ES2022),
      diagnostic.start ?? 0,
    );
    const error = new SyntaxError(t.flattenDiagnosticMessageText(diagnostic.messageText, '\n'));
    error.errors = [{ text: error.message, location: { file, line: line + 1, column: character } }];
    throw error;
  }
  const url = pathToFileURL(file).href;
  let js = out.outputText
    .replace(/\bimport\.meta\.url\b/g, JSON.stringify(url))
    .replace(/\bimport\.meta\.filename\b/g, JSON.stringify(file))
    .replace(/\bimport\.meta\.dirname\b/g, JSON.stringify(dirname(file)));
  // Point the source map at the source file itself.
  js = js.replace(/^\/\/# sourceMappingURL=data:application\/json;base64,(.*)$/m, (_, b64) => {
    const map = JSON.parse(Buffer.from(b64, 'base64').toString('utf8'));
    map.sources = [url];
    map.sourceRoot = '';
    return `//# sourceMappingURL=data:application/json;base64,${Buffer.from(JSON.stringify(map)).toString('base64')}`;
  });
  if (rewrite) {
    js = js.replace(/(\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)(["'])([^"'\n]+)\2/g, (whole, lead, quote, specifier) => {
      const to = rewrite(specifier);
      return to === undefined ? whole : `${lead}${quote}${to}${quote}`;
    });
  }
  return js;
}

function writeAtomic(path, text) {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}

/** Every .ts source of the package (not tests, benches, node_modules), relative to the root. */
function packageSources(dir = root, out = []) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name.startsWith('.')) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (dir === root && skipDirs.has(entry.name)) continue;
      if (entry.name === 'node_modules') continue;
      packageSources(path, out);
    } else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) out.push(relative(root, path));
  }
  return out;
}

/** The package's `exports` map, resolved for `concert` / `concert/…` specifiers. */
function exportsResolver(cacheDir) {
  const exportsMap = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).exports ?? {};
  return (specifier) => {
    const key = specifier === 'concert' ? '.' : `./${specifier.slice('concert/'.length)}`;
    let target = typeof exportsMap[key] === 'string' ? exportsMap[key] : undefined;
    if (!target) {
      for (const [pattern, value] of Object.entries(exportsMap)) {
        const star = pattern.indexOf('*');
        if (star < 0 || typeof value !== 'string') continue;
        const [before, after] = [pattern.slice(0, star), pattern.slice(star + 1)];
        if (key.startsWith(before) && key.endsWith(after) && key.length >= before.length + after.length) {
          target = value.replace('*', key.slice(before.length, key.length - after.length));
          break;
        }
      }
    }
    if (!target) return undefined;
    const source = resolvePath(root, target);
    if (!source.endsWith('.ts')) return pathToFileURL(source).href;
    return pathToFileURL(join(cacheDir, relative(root, source)).replace(/\.ts$/, '.js')).href;
  };
}

function notFound(specifier, message) {
  const error = new Error(`${message} (for '${specifier}')`);
  error.code = 'ERR_MODULE_NOT_FOUND';
  return error;
}

/**
 * Prepares the cache and returns the loader API (also published on
 * globalThis[Symbol.for('concert.loader')] for session/loader.ts and the REPL).
 */
function prepareCache() {
  const cacheDir = join(root, 'node_modules', '.cache', 'concert');
  mkdirSync(cacheDir, { recursive: true });
  accessSync(cacheDir, constants.W_OK);
  const manifestPath = join(cacheDir, 'manifest.json');
  let manifest = { version: CACHE_VERSION, files: {} };
  try {
    const read = JSON.parse(readFileSync(manifestPath, 'utf8'));
    if (read.version === CACHE_VERSION) manifest = read;
  } catch {
    // first start
  }
  if (!existsSync(join(cacheDir, 'package.json')))
    writeFileSync(join(cacheDir, 'package.json'), '{ "type": "module" }\n');
  const resolveConcert = exportsResolver(cacheDir);
  // Package files (sessions/demo.ts among them) may import `concert/…` too.
  const rewritePackage = (specifier) =>
    specifier === 'concert' || specifier.startsWith('concert/') ? resolveConcert(specifier) : undefined;
  let changed = false;
  const seen = {};
  for (const rel of packageSources()) {
    const src = join(root, rel);
    const st = statSync(src);
    const stamp = [st.mtimeMs, st.size];
    seen[rel] = stamp;
    const old = manifest.files[rel];
    const out = join(cacheDir, rel.replace(/\.ts$/, '.js'));
    if (old && old[0] === stamp[0] && old[1] === stamp[1] && existsSync(out)) continue;
    let js;
    try {
      js = transpile(readFileSync(src, 'utf8'), src, { verbatim: true, rewrite: rewritePackage });
    } catch (error) {
      // A broken file of the package: load it through a module that throws the same error.
      js = `throw new SyntaxError(${JSON.stringify(`${src}: ${error.message}`)});\n`;
    }
    writeAtomic(out, js);
    changed = true;
  }
  if (changed || Object.keys(manifest.files).length !== Object.keys(seen).length) {
    writeAtomic(manifestPath, JSON.stringify({ version: CACHE_VERSION, files: seen }));
  }
  const extDir = join(cacheDir, 'ext');

  /** The cached module URL of a TypeScript file outside the package (a session), transpiled if needed. */
  function compileExternal(file, stack = new Set()) {
    const src = resolvePath(file);
    if (src.startsWith(root + sep) && !src.includes(`${sep}node_modules${sep}`)) {
      // A file of the package itself (e.g. sessions/demo.ts) is in the cache already.
      const rel = relative(root, src);
      if (seen[rel]) return pathToFileURL(join(cacheDir, rel.replace(/\.ts$/, '.js'))).href;
    }
    const st = statSync(src);
    const key = createHash('sha1').update(src).digest('hex').slice(0, 16);
    const out = join(extDir, `${key}.js`);
    const stampFile = `${out}.stamp`;
    const stamp = `${st.mtimeMs}:${st.size}`;
    const url = pathToFileURL(out).href;
    if (stack.has(src)) return url;
    stack.add(src);
    const deps = [];
    const rewrite = (specifier) => rewriteSpecifier(specifier, src, deps);
    let fresh = false;
    try {
      fresh = readFileSync(stampFile, 'utf8').split('\n')[0] === stamp && existsSync(out);
    } catch {
      fresh = false;
    }
    if (fresh) {
      // Dependencies may have changed: re-check them.
      for (const dep of readFileSync(stampFile, 'utf8').split('\n').slice(1).filter(Boolean))
        compileExternal(dep, stack);
      return url;
    }
    const js = transpile(readFileSync(src, 'utf8'), src, { verbatim: false, rewrite: (s) => rewrite(s) });
    for (const dep of deps) compileExternal(dep, stack);
    writeAtomic(out, js);
    writeAtomic(stampFile, [stamp, ...deps].join('\n'));
    return url;
  }

  /** Maps an import specifier written in `parentFile` (a session, or the prompt when undefined). */
  function rewriteSpecifier(specifier, parentFile, deps) {
    if (specifier === 'concert' || specifier.startsWith('concert/')) {
      const url = resolveConcert(specifier);
      const path = url && fileURLToPath(url);
      if (!url || (path.startsWith(cacheDir) && !existsSync(path)) || (!path.startsWith(cacheDir) && !existsSync(path)))
        throw notFound(specifier, `Cannot find module '${specifier}' in the concert package`);
      return url;
    }
    if (
      specifier.startsWith('./') ||
      specifier.startsWith('../') ||
      specifier.startsWith('/') ||
      specifier.startsWith('file:')
    ) {
      const base = parentFile ? dirname(parentFile) : process.cwd();
      const path = specifier.startsWith('file:') ? fileURLToPath(specifier) : resolvePath(base, specifier);
      const candidates =
        extname(path) === '.js' ? [path.replace(/\.js$/, '.ts'), path] : extname(path) ? [path] : [`${path}.ts`, path];
      const found = candidates.find((p) => existsSync(p) && statSync(p).isFile());
      if (!found) throw notFound(specifier, `Cannot find module '${path}'`);
      if (!found.endsWith('.ts')) return pathToFileURL(found).href;
      deps?.push(found);
      return compileExternal(found);
    }
    return undefined;
  }

  return {
    kind: 'cache',
    cacheDir,
    /** The cached URL of a package file given relative to the root (`session/cli/main.ts`). */
    packageUrl: (rel) => pathToFileURL(join(cacheDir, rel.replace(/\.ts$/, '.js'))).href,
    /** Imports a session file (anywhere on disk). */
    importSession: (file) => import(compileExternal(file)),
    /** Maps a specifier typed at the prompt (undefined: leave it to node). */
    resolveSpecifier: (specifier) => rewriteSpecifier(specifier, undefined, undefined),
  };
}

/**
 * A V8 code cache for the CommonJS modules of node_modules (mathjs' bundle, rxjs, commander,
 * typescript): each is compiled with the code V8 produced for it in an earlier run, which that run
 * wrote at exit (after execution, so it holds the lazily compiled functions too). Loading mathjs
 * drops from ≈ 130 ms to ≈ 15 ms on a quiet machine. The technique of the `v8-compile-cache`
 * package, kept small and only for big files.
 * Off with CONCERT_NO_CODE_CACHE=1.
 */
export function installCodeCache(cacheDir) {
  const Module = require('node:module');
  const vm = require('node:vm');
  const dir = join(cacheDir, 'v8');
  const pending = [];
  const compile = Module.prototype._compile;
  Module.prototype._compile = function (content, filename) {
    // Only big files pay off (mathjs' bundle, typescript); for small ones the cache look-up costs more.
    if (
      content.length < 64 * 1024 ||
      !filename.includes(`${sep}node_modules${sep}`) ||
      filename.includes(`${sep}.cache${sep}`)
    )
      return compile.call(this, content, filename);
    const st = statSync(filename);
    const key = createHash('sha1').update(`${filename}\0${st.mtimeMs}\0${st.size}\0${process.version}`).digest('hex');
    const cacheFile = join(dir, key);
    let cachedData;
    try {
      cachedData = readFileSync(cacheFile);
    } catch {
      cachedData = undefined;
    }
    let script;
    try {
      script = new vm.Script(Module.wrap(content), { filename, cachedData });
    } catch {
      return compile.call(this, content, filename); // let node report the syntax error its way
    }
    if (!cachedData || script.cachedDataRejected) pending.push({ script, cacheFile });
    if (process.env.CONCERT_DEBUG)
      process.stderr.write(
        `[concert] code cache ${cachedData ? (script.cachedDataRejected ? 'rejected' : 'used') : 'missing'}: ${filename}\n`,
      );
    const mod = this;
    const req = (id) => mod.require(id);
    req.resolve = (request, options) => Module._resolveFilename(request, mod, false, options);
    req.resolve.paths = (request) => Module._resolveLookupPaths(request, mod);
    req.main = process.mainModule;
    req.extensions = Module._extensions;
    req.cache = Module._cache;
    return script
      .runInThisContext({ displayErrors: true })
      .call(mod.exports, mod.exports, req, mod, filename, dirname(filename));
  };
  process.once('exit', () => {
    for (const { script, cacheFile } of pending) {
      try {
        writeAtomic(cacheFile, script.createCachedData());
      } catch {
        // a read-only cache is only slower
      }
    }
  });
}

/** Runs the `concert` command. */
export async function boot(argv) {
  let loader;
  if (process.env.CONCERT_LOADER !== 'tsx') {
    try {
      const t0 = performance.now();
      loader = prepareCache();
      if (process.env.CONCERT_STARTUP_TIMING)
        process.stderr.write(`[concert] transpile cache checked in ${(performance.now() - t0).toFixed(0)} ms\n`);
    } catch (error) {
      if (process.env.CONCERT_DEBUG)
        process.stderr.write(`[concert] no transpile cache (${error.message}); using tsx\n`);
    }
  }
  if (loader && !process.env.CONCERT_NO_CODE_CACHE) installCodeCache(loader.cacheDir);
  let main;
  if (loader) {
    globalThis[Symbol.for('concert.loader')] = loader;
    ({ main } = await import(loader.packageUrl('session/cli/main.ts')));
  } else {
    const { register } = await import('tsx/esm/api');
    register();
    ({ main } = await import('./cli/main.ts'));
  }
  await main(argv);
}
