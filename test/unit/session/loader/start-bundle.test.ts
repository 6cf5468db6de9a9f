import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { PackageCache } from '../../../../session/loader/package-cache.js';
import {
  BUNDLE_FILE,
  exportNames,
  LOADER_KEY,
  pinClassNames,
  routeDynamicImports,
} from '../../../../session/loader/start-bundle.js';
import type { Shape } from '../../../../session/loader/barrels.js';
import { makeFixture, type Fixture } from './fixture.js';

/** The text of the one start bundle in `dir`. */
function bundleText(dir: string): string {
  const files = readdirSync(dir).filter((f) => BUNDLE_FILE.test(f));
  assert.equal(files.length, 1, `one start bundle in ${dir}: ${files.join(', ')}`);
  return readFileSync(join(dir, files[0]!), 'utf8');
}

/** Two modules with a class of one name each (the bundle renames one), and a lazily imported one. */
function writeDevices(fx: Fixture): void {
  fx.write('dev/base.ts', 'export class Camera {\n  kind(): string {\n    return this.constructor.name;\n  }\n}\n');
  fx.write(
    'dev/dummy.ts',
    [
      "import { Camera as Base } from './base.js';",
      'export class Camera extends Base {}',
      "export const later = async (): Promise<string> => (await import('./later.js')).word;",
      'export default 7;',
    ].join('\n'),
  );
  fx.write('dev/later.ts', "import { Camera } from './dummy.js';\nexport const word: string = new Camera().kind();\n");
  fx.write('dev/all.ts', "export * from './dummy.js';\nexport { Camera as BaseCamera } from './base.js';\n");
}

describe('session/loader/start-bundle', function () {
  this.timeout(60_000);
  let fx: Fixture;
  beforeEach(() => (fx = makeFixture()));
  afterEach(() => fx.remove());

  it('runs the entries and their imports from one bundle, one copy of each module, whoever imports it', async () => {
    writeDevices(fx);
    const cache = new PackageCache(fx.root, fx.cacheDir, { entries: ['dev/all.ts', 'lib/index.ts'] });
    await cache.refresh();
    bundleText(fx.cacheDir);
    assert.deepEqual(cache.startBundleModules().sort(), ['dev/all.ts', 'dev/base.ts', 'dev/dummy.ts', 'lib/index.ts']);
    assert.match(readFileSync(join(fx.cacheDir, 'm', 'dev', 'dummy.js'), 'utf8'), /start-bundle-[0-9a-f]{16}\.cjs/);
    // dev/later.ts, imported with import(), is not in the bundle: the module itself, in m/.
    assert.doesNotMatch(readFileSync(join(fx.cacheDir, 'm', 'dev', 'later.js'), 'utf8'), /start-bundle/);
    const loader = await import('../../../../session/loader/index.js');
    (globalThis as Record<symbol, unknown>)[Symbol.for(LOADER_KEY)] = loader;
    const dummy = (await import(cache.urlOf('dev/dummy.ts'))) as {
      Camera: new () => { kind(): string };
      later(): Promise<string>;
      default: number;
    };
    const all = (await import(cache.urlOf('dev/all.ts'))) as { Camera: unknown; BaseCamera: unknown };
    const base = (await import(cache.urlOf('dev/base.ts'))) as { Camera: new () => object };
    assert.equal(all.Camera, dummy.Camera, 'export * reaches the same class');
    assert.equal(all.BaseCamera, base.Camera);
    assert.ok(new dummy.Camera() instanceof base.Camera);
    assert.equal(dummy.default, 7);
    // Class names as written, though the bundle had to rename one of the two.
    assert.equal(new dummy.Camera().kind(), 'Camera');
    assert.equal(new base.Camera().constructor.name, 'Camera');
    assert.match(bundleText(fx.cacheDir), /Camera2/);
    // import() from the bundle loads the module from m/, which imports the bundle's copy.
    assert.equal(await dummy.later(), 'Camera');
    // A module outside the bundle that imports one in it gets the bundle's copy too.
    const self = (await import(cache.urlOf('lib/uses-self.ts'))) as { counter: object };
    const lib = (await import(cache.urlOf('lib/index.ts'))) as { Counter: new () => object };
    assert.ok(self.counter instanceof lib.Counter);
  });

  it('keeps a module whose top-level await CommonJS cannot hold out: m/ then holds the modules themselves', async () => {
    fx.write('dev/wait.ts', 'export const value: number = await Promise.resolve(5);\n');
    const cache = new PackageCache(fx.root, fx.cacheDir, { entries: ['dev/wait.ts'] });
    await cache.refresh();
    assert.deepEqual(cache.startBundleModules(), []);
    assert.equal(((await import(cache.urlOf('dev/wait.ts'))) as { value: number }).value, 5);
  });

  it('is made again when a source changes, and the view follows', async () => {
    writeDevices(fx);
    const cache = new PackageCache(fx.root, fx.cacheDir, { entries: ['dev/dummy.ts'] });
    await cache.refresh();
    fx.write('dev/base.ts', 'export class Camera {\n  kind(): string {\n    return "changed";\n  }\n}\n');
    await new PackageCache(fx.root, fx.cacheDir, { entries: ['dev/dummy.ts'] }).refresh();
    assert.match(bundleText(fx.cacheDir), /"changed"/, 'the old bundle is gone, the new one holds the change');
    const dummy = (await import(cache.urlOf('dev/dummy.ts'))) as { Camera: new () => { kind(): string } };
    assert.equal(new dummy.Camera().kind(), 'changed', 'the facades name the new bundle');
  });

  it("made by the loader's own cached copy (as concert runs it after an edit), the facades find the bundle", async () => {
    // concert remakes the cache with the loader from the cache, whose import.meta was pinned to
    // its source: the pinning once reached the facade template's `import.meta.url` too
    const root = resolve(fileURLToPath(new URL('../../../../', import.meta.url)));
    const real = new PackageCache(root, join(root, 'node_modules', '.cache', 'concert'));
    await real.refresh();
    const cachedLoader = join(real.dir, 'session', 'loader', 'package-cache.js');
    assert.match(
      readFileSync(join(real.dir, 'session', 'loader', 'start-bundle.js'), 'utf8'),
      /createRequire\(import\.meta\.url\)/,
    );
    const { PackageCache: CachedPackageCache } = (await import(pathToFileURL(cachedLoader).href)) as {
      PackageCache: typeof PackageCache;
    };
    writeDevices(fx);
    const cache = new CachedPackageCache(fx.root, fx.cacheDir, { entries: ['dev/dummy.ts'] });
    await cache.refresh();
    const dummy = (await import(cache.urlOf('dev/dummy.ts'))) as { Camera: new () => { kind(): string } };
    assert.equal(new dummy.Camera().kind(), 'Camera');
    // and import.meta.url is the module's own source, not the cached transform.ts's
    const lib = (await import(cache.urlOf('lib/index.ts'))) as { where: string; words: string[] };
    assert.equal(lib.where, pathToFileURL(join(fx.root, 'lib', 'index.ts')).href);
    assert.deepEqual(lib.words, ['import.meta.url', 'import.meta.dirname']);
  });

  it("every name the package imports from a loader module is one of the loader's index (what the bundle hands it)", async () => {
    // the bundle maps a static import of session/loader/* to the loader's index module, shared
    // by boot.ts: a name only in the module itself would be undefined in the bundle
    const root = resolve(fileURLToPath(new URL('../../../../', import.meta.url)));
    const index = Object.keys(await import('../../../../session/loader/index.js'));
    const missing: string[] = [];
    const skipped = new Set(['node_modules', 'test', 'bench', 'docs', join('session', 'loader')]);
    const walk = (dir: string): string[] =>
      readdirSync(join(root, dir), { withFileTypes: true }).flatMap((e) => {
        const rel = join(dir, e.name);
        if (e.isDirectory()) return e.name.startsWith('.') || skipped.has(rel) ? [] : walk(rel);
        return e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [rel] : [];
      });
    const files = walk('');
    assert.ok(files.length > 100, `${files.length} package files`);
    for (const rel of files) {
      const text = readFileSync(join(root, rel), 'utf8');
      for (const m of text.matchAll(/^import\s+(?!type\b)\{([^}]*)\}\s+from\s+'([^']*\/loader\/[\w-]+\.js)'/gm)) {
        for (const part of m[1]!.split(',')) {
          const name = part.trim().split(/\s+as\s+/)[0]!;
          if (!name || name.startsWith('type ')) continue;
          if (!index.includes(name)) missing.push(`${rel}: ${name} from ${m[2]}`);
        }
      }
    }
    assert.deepEqual(missing, []);
  });

  it("compiled with the V8 code cache, the bundle's import() still works (V8 drops node's hook there)", () => {
    writeDevices(fx);
    const here = (rel: string) => pathToFileURL(join(process.cwd(), rel)).href;
    const script = [
      `const { PackageCache } = await import(${JSON.stringify(here('session/loader/package-cache.ts'))});`,
      `const loader = await import(${JSON.stringify(here('session/loader/index.ts'))});`,
      `const stats = loader.installCodeCache(${JSON.stringify(join(fx.cacheDir, 'v8'))});`,
      `globalThis[Symbol.for(${JSON.stringify(LOADER_KEY)})] = loader;`,
      `const cache = new PackageCache(${JSON.stringify(fx.root)}, ${JSON.stringify(fx.cacheDir)}, { entries: ['dev/dummy.ts'] });`,
      `await cache.refresh();`,
      `const dummy = await import(cache.urlOf('dev/dummy.ts'));`,
      `const ours = (list) => list.filter((f) => /start-bundle-[0-9a-f]{16}\\.cjs$/.test(f)).length;`,
      `console.log(JSON.stringify({ word: await dummy.later(), used: ours(stats.used), missing: ours(stats.missing) }));`,
    ].join('\n');
    const run = () => {
      const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
        encoding: 'utf8',
        timeout: 30_000,
      });
      assert.equal(r.status, 0, r.stderr);
      return JSON.parse(r.stdout) as { word: string; used: number; missing: number };
    };
    // (a small bundle: the code cache takes it all the same, see code-cache.ts isCached)
    assert.deepEqual(run(), { word: 'Camera', used: 0, missing: 1 });
    assert.deepEqual(run(), { word: 'Camera', used: 1, missing: 0 });
  });

  it('names what a module exports, through export * (undefined where the shapes cannot tell)', () => {
    const shape = (names: Shape['names'], stars: Shape['stars'] = [], opaque = false): Shape => ({
      barrel: false,
      names,
      stars,
      opaque,
    });
    const shapes: Record<string, Shape> = {
      'a.ts': shape({ x: null, default: null }),
      'b.ts': shape({ y: null, x: null }),
      'star.ts': shape({ own: null }, ['a.ts']),
      'clash.ts': shape({}, ['a.ts', 'b.ts']),
      'outside.ts': shape({}, [null]),
      'odd.ts': shape({ z: null }, [], true),
    };
    assert.deepEqual([...exportNames(shapes, 'star.ts')!].sort(), ['own', 'x']);
    assert.equal(exportNames(shapes, 'clash.ts'), undefined, 'x from two stars: ambiguous');
    assert.equal(exportNames(shapes, 'outside.ts'), undefined);
    assert.equal(exportNames(shapes, 'odd.ts'), undefined);
  });

  it('routes the import() calls esbuild lowered to the loader; pins class names on the class line', () => {
    const js = [
      'const a = Promise.resolve().then(() => __toESM(require("./m/x.js")));',
      'const b = () => Promise.resolve().then(() => __toESM(require(name), 1));',
      'const c = __toESM(require("node:fs"));',
    ].join('\n');
    assert.equal(
      routeDynamicImports(js),
      [
        'const a = Promise.resolve().then(() => __concertImport(("./m/x.js")));',
        'const b = () => Promise.resolve().then(() => __concertImport((name), 1));',
        'const c = __toESM(require("node:fs"));',
      ].join('\n'),
    );
    assert.equal(
      pinClassNames('export class A extends (x = { b: 1 }, B) {\n}\nclass C {}\n'),
      'export class A extends (x = { b: 1 }, B) { static { Object.defineProperty(this, "name", ' +
        '{ value: "A", configurable: true }); }\n}\nclass C {}\n',
    );
  });
});
