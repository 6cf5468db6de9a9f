import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  resolveName,
  rewriteBarrelImports,
  shapeChanges,
  shapeOf,
  type Shape,
} from '../../../../session/loader/barrels.js';
import { PackageCache } from '../../../../session/loader/package-cache.js';
import { SessionFiles } from '../../../../session/loader/session-files.js';
import { staticImportSpecifiers } from '../../../../session/loader/transform.js';
import { makeFixture, type Fixture } from './fixture.js';

/** Specifiers of the form `./x.js` name module `x`. */
const local = (s: string) => (s.startsWith('./') ? s.slice(2).replace(/\.js$/, '') : undefined);

describe('session/loader/barrels', function () {
  this.timeout(30_000);

  describe('shapes and rewrites (esbuild output)', () => {
    const shapes: Record<string, Shape> = {
      index: shapeOf('export * from "./a.js";\nexport * from "./b.js";\nexport * as ns from "./c.js";\n', local),
      a: shapeOf('const a = 1;\nconst hidden = 2;\nexport {\n  a,\n  hidden as shown\n};\n', local),
      b: shapeOf('import { x } from "./c.js";\nclass B {}\nexport {\n  B,\n  x as fromC\n};\n', local),
      c: shapeOf('export const x = 3;\nexport default 4;\n', local),
      both: shapeOf('export * from "./a.js";\nexport * from "./a2.js";\n', local),
      a2: shapeOf('const a = 5;\nexport { a };\n', local),
      dep: shapeOf('export * from "rxjs";\nexport * as operators from "rxjs/operators";\n', local),
      code: shapeOf('export * from "./a.js";\nconsole.log("side effect");\n', local),
    };

    it('tells barrels (only imports and exports) from modules with code, and reads their names', () => {
      assert.ok(shapes.index!.barrel && !shapes.a!.barrel && !shapes.code!.barrel);
      assert.deepEqual(shapes.a!.names, { a: null, shown: null });
      assert.deepEqual(shapes.b!.names, { B: null, fromC: ['c', 'x'] });
      assert.deepEqual(shapes.c!.names, { x: null, default: null });
      assert.deepEqual(shapes.index!.stars, ['a', 'b']);
      assert.deepEqual(shapes.dep!.stars, [null]);
      assert.ok(!shapes.a!.opaque);
      assert.ok(shapeOf('export const { a, b } = obj;\n', local).opaque, 'a destructuring export is not read');
    });

    it('follows a name to the first module that is not a barrel, and nowhere it cannot be sure of', () => {
      assert.deepEqual(resolveName(shapes, 'index', 'a'), ['a', 'a']);
      assert.deepEqual(resolveName(shapes, 'index', 'shown'), ['a', 'shown']);
      assert.deepEqual(resolveName(shapes, 'index', 'fromC'), ['b', 'fromC'], 'b has code: it is not looked through');
      assert.deepEqual(resolveName(shapes, 'index', 'ns'), ['c', '*'], "a namespace is the module's");
      assert.equal(resolveName(shapes, 'index', 'missing'), undefined);
      assert.equal(resolveName(shapes, 'both', 'a'), undefined, 'two stars with the name: ambiguous');
      assert.equal(resolveName(shapes, 'dep', 'Observable'), undefined, 'a dependency is not read');
      assert.deepEqual(resolveName(shapes, 'dep', 'operators'), ['dep', 'operators'], "nor a dependency's namespace");
      assert.deepEqual(resolveName(shapes, 'code', 'a'), ['code', 'a']);
    });

    it('says which names a new shape may resolve differently (the importers of others are left alone)', () => {
      const a2 = shapeOf('const a = 1;\nconst b = 2;\nexport {\n  a as shown,\n  b\n};\n', local);
      assert.deepEqual([...(shapeChanges(shapes.a, a2) as Set<string>)].sort(), ['a', 'b']);
      assert.deepEqual([...(shapeChanges(shapes.a, shapes.a!) as Set<string>)], [], 'only the code changed');
      assert.deepEqual([...(shapeChanges(undefined, shapes.a!) as Set<string>)].sort(), ['a', 'shown']);
      assert.equal(shapeChanges(shapes.index, shapes.both!), 'all', 'a barrel with other stars');
      assert.equal(shapeChanges(shapes.code, shapes.index!), 'all', 'a module that became a barrel');
    });

    it('rewrites named imports through barrels, keeping local names and what it cannot place', () => {
      const js =
        'import { a as first, B, ns, nope } from "./index.js";\nimport * as all from "./index.js";\nuse(first, B, ns, nope, all);\n';
      assert.equal(
        rewriteBarrelImports(js, shapes, local, (key) => `./${key}.js`),
        [
          'import { a as first } from "./a.js"; import { B as B } from "./b.js"; ' +
            'import * as ns from "./c.js"; import { nope } from "./index.js";',
          'import * as all from "./index.js";',
          'use(first, B, ns, nope, all);',
          '',
        ].join('\n'),
      );
      const long = 'import {\n  a,\n  shown\n} from "./index.js";\nuse(a, shown);\n';
      assert.equal(
        rewriteBarrelImports(long, shapes, local, (key) => `./${key}.js`),
        'import { a as a, shown as shown } from "./a.js";\n\n\n\nuse(a, shown);\n',
        'the lines stay where they were (source maps of session files)',
      );
      const code = 'import { a } from "./code.js";\n';
      assert.equal(
        rewriteBarrelImports(code, shapes, local, (key) => `./${key}.js`),
        code,
      );
    });
  });

  describe('in the transpile cache', () => {
    let fx: Fixture;
    beforeEach(() => {
      fx = makeFixture();
      fx.write('lib/all.ts', "export * from './a.js';\nexport * from './b.js';\nexport { c as see } from './c.js';\n");
      fx.write('lib/a.ts', 'export const a: number = 1;\n');
      fx.write('lib/b.ts', '(globalThis as Record<string, unknown>).loadedB = true;\nexport const b = 2;\n');
      fx.write('lib/c.ts', 'export const c = 3;\n');
      fx.write('lib/use.ts', "import { a, see } from './all.js';\nexport const sum = a + see;\n");
    });
    afterEach(() => {
      delete (globalThis as Record<string, unknown>).loadedB;
      fx.remove();
    });

    it("imports through a barrel load only the defining modules (b's code does not run)", async () => {
      const cache = new PackageCache(fx.root, fx.cacheDir);
      await cache.refresh();
      const js = readFileSync(join(fx.cacheDir, 'lib', 'use.js'), 'utf8');
      assert.match(js, /import \{ a as a \} from "\.\/a\.js";/);
      assert.match(js, /import \{ c as see \} from "\.\/c\.js";/);
      const use = (await import(cache.urlOf('lib/use.ts'))) as { sum: number };
      assert.equal(use.sum, 4);
      assert.equal((globalThis as Record<string, unknown>).loadedB, undefined);
    });

    it('when an export moves, the importers are rewritten at the next start', async () => {
      await new PackageCache(fx.root, fx.cacheDir).refresh();
      fx.write('lib/a.ts', 'export const other = 0;\n');
      fx.write('lib/c.ts', 'export const c = 3;\nexport const a = 10;\n');
      fx.write(
        'lib/all.ts',
        "export * from './a.js';\nexport * from './b.js';\nexport { c as see, a } from './c.js';\n",
      );
      const cache = new PackageCache(fx.root, fx.cacheDir);
      const r = await cache.refresh();
      assert.equal(r.transpiled, 3, 'the three changed files are announced');
      const js = readFileSync(join(fx.cacheDir, 'lib', 'use.js'), 'utf8');
      assert.match(js, /import \{ a as a, c as see \} from "\.\/c\.js";/, 'use.ts did not change, its import did');
    });

    it("a session file's `concert/…` imports go to the defining modules too", async () => {
      const cache = new PackageCache(fx.root, fx.cacheDir);
      await cache.refresh();
      const session = fx.write(
        's.ts',
        "import { a } from 'concert/lib/all';\nexport const twiceA = 2 * a;\n",
        'sessions',
      );
      const mod = (await import(new SessionFiles(cache).urlOf(session))) as { twiceA: number };
      assert.equal(mod.twiceA, 2);
      assert.equal((globalThis as Record<string, unknown>).loadedB, undefined);
    });
  });

  it('the shipped demo, from the package cache, loads no barrel (and none of video/, recording/, transport/)', async () => {
    const root = resolve(fileURLToPath(new URL('../../../../', import.meta.url)));
    const cache = new PackageCache(root, join(root, 'node_modules', '.cache', 'concert'));
    await cache.refresh();
    const shapes = JSON.parse(readFileSync(join(cache.dir, 'shapes.json'), 'utf8')) as Record<string, Shape>;
    // The static import closure of sessions/demo.js in the cache.
    const seen = new Set<string>();
    // (a barrel imported as a namespace, `import * as imaging`, is the barrel itself: allowed)
    const namespaces = new Set<string>();
    const visit = (file: string) => {
      if (seen.has(file)) return;
      seen.add(file);
      const js = readFileSync(file, 'utf8');
      const whole = new Set([...js.matchAll(/^import \* as [\w$]+ from "([^"]+)";/gm)].map((m) => m[1]!));
      for (const s of staticImportSpecifiers(js)) {
        // (the modules as transpiled: a `concert/…` import points into the main thread's view, m/)
        const path = (
          s.startsWith('file:') ? fileURLToPath(s) : s.startsWith('.') ? resolve(dirname(file), s) : ''
        ).replace(`${cache.dir}/m/`, `${cache.dir}/`);
        if (!path.startsWith(cache.dir)) continue;
        if (whole.has(s)) namespaces.add(path);
        visit(path);
      }
    };
    visit(join(cache.dir, 'sessions', 'demo.js'));
    const loaded = [...seen].map((f) => f.slice(cache.dir.length + 1).replace(/\.js$/, '.ts'));
    assert.ok(loaded.length > 50, `the demo's modules: ${loaded.length}`);
    assert.deepEqual(
      loaded.filter((rel) => shapes[rel]?.barrel && !namespaces.has(join(cache.dir, rel.replace(/\.ts$/, '.js')))),
      [],
    );
    assert.deepEqual(
      loaded.filter((rel) => /^(video|recording|transport)\//.test(rel)),
      [],
    );
    // The start bundle (start-bundle.ts) holds the demo's modules, and no more of those folders.
    const bundled = cache.startBundleModules();
    assert.deepEqual(
      loaded.filter((rel) => !/^(sessions|deps)\//.test(rel) && !bundled.includes(rel)),
      [],
    );
    assert.deepEqual(
      bundled.filter((rel) => /^(video|recording|transport)\//.test(rel)),
      [],
    );
  });
});
