import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describeError } from '../../../../session/errors.js';
import { brokenImportCause, describeLoadError } from '../../../../session/loader/load-error.js';
import { PackageCache } from '../../../../session/loader/package-cache.js';
import { makeFixture, type Fixture } from './fixture.js';

describe('session/loader/package-cache', function () {
  this.timeout(30_000);
  let fx: Fixture;
  beforeEach(() => (fx = makeFixture()));
  afterEach(() => fx.remove());

  it('transpiles every source of the package once, then only what changed', async () => {
    const cache = new PackageCache(fx.root, fx.cacheDir);
    let announced: [number, number] | undefined;
    const first = await cache.refresh({ onTranspile: (n, total) => (announced = [n, total]) });
    assert.deepEqual([first.transpiled, first.total], [3, 3], 'index.ts, lib/index.ts, lib/uses-self.ts (not test/)');
    assert.deepEqual(announced, [3, 3]);
    assert.equal(readFileSync(join(fx.cacheDir, 'package.json'), 'utf8').trim(), '{ "type": "module" }');
    assert.ok(!existsSync(join(fx.cacheDir, 'test')));
    const again = await new PackageCache(fx.root, fx.cacheDir).refresh({
      onTranspile: () => assert.fail('nothing changed'),
    });
    assert.equal(again.transpiled, 0);
    const before = statSync(join(fx.cacheDir, 'index.js')).mtimeMs;
    fx.write('lib/index.ts', 'export const twice = (x: number): number => 3 * x;\nexport const where = 1;\n');
    const third = await new PackageCache(fx.root, fx.cacheDir).refresh();
    assert.equal(third.transpiled, 1);
    assert.equal(statSync(join(fx.cacheDir, 'index.js')).mtimeMs, before, 'unchanged files are left alone');
    const lib = (await import(new PackageCache(fx.root, fx.cacheDir).urlOf('lib/index.ts'))) as {
      twice(x: number): number;
    };
    assert.equal(lib.twice(2), 6);
  });

  it('loads the package from the cache: types stripped, import.meta.url of the source, concert/… is the same module', async () => {
    const cache = new PackageCache(fx.root, fx.cacheDir);
    await cache.refresh();
    assert.match(readFileSync(join(fx.cacheDir, 'lib', 'index.js'), 'utf8'), /function twice\(x\) \{/);
    const root = (await import(cache.urlOf(join(fx.root, 'index.ts')))) as { twice(x: number): number; where: string };
    assert.equal(root.twice(21), 42);
    assert.equal(root.where, pathToFileURL(join(fx.root, 'lib', 'index.ts')).href);
    const { words } = (await import(cache.urlOf('lib/index.ts'))) as { words: string[] };
    assert.deepEqual(words, ['import.meta.url', 'import.meta.dirname'], 'only the expressions are pinned');
    const lib = (await import(cache.urlOf('lib/index.ts'))) as { Counter: new () => object };
    const self = (await import(cache.urlOf('lib/uses-self.ts'))) as { counter: object };
    assert.ok(self.counter instanceof lib.Counter, "'concert/lib' and './index.js' are one module");
    assert.equal(cache.concertUrl('concert/lib'), cache.urlOf('lib/index.ts'));
    assert.equal(cache.concertUrl('concert/data.json'), pathToFileURL(join(fx.root, 'data.json')).href);
    assert.ok(cache.holds(join(fx.root, 'lib', 'index.ts')) && !cache.holds(join(fx.root, 'test', 'ignored.ts')));
  });

  it('a broken file of the package fails where it is imported, naming file and line; the others load', async () => {
    fx.write('lib/broken.ts', 'export const a = 1;\nexport const b = (;\n');
    const cache = new PackageCache(fx.root, fx.cacheDir);
    const r = await cache.refresh();
    assert.equal(r.transpiled, 4);
    await assert.rejects(import(cache.urlOf('lib/broken.ts')), (e: Error) => {
      assert.equal(e.name, 'SyntaxError');
      assert.match(e.message, /lib\/broken\.ts:2:\d+: Unexpected "?;"?/);
      return true;
    });
    assert.equal(((await import(cache.urlOf('index.ts'))) as { kind: string }).kind, 'root');
  });

  it("a module importing names from a broken file fails to link: the broken file's own line is found", async () => {
    fx.write('lib/broken.ts', 'export const a = 1;\nexport const b = (;\n');
    fx.write('lib/user.ts', "import { a } from './broken.js';\nexport const twiceA = 2 * a;\n");
    const cache = new PackageCache(fx.root, fx.cacheDir);
    await cache.refresh();
    const error = await import(cache.urlOf('lib/user.ts')).then(
      () => assert.fail('a module importing from a broken file must not load'),
      (e: unknown) => e,
    );
    // what Node says: the import's names, not the syntax error that made them missing
    assert.match(String(error), /does not provide an export named 'a'/);
    assert.match(brokenImportCause(error) ?? '', /lib\/broken\.ts:2:\d+: Unexpected "?;"?/);
    const session = fx.write(
      's.ts',
      "import { twiceA } from 'concert/lib/user';\nexport const x = twiceA;\n",
      'sessions',
    );
    assert.match(
      describeLoadError(error, session, readFileSync(session, 'utf8')),
      /^\S*lib\/broken\.ts:2:\d+: SyntaxError: Unexpected "?;"?\nThe session failed to load\.$/,
    );
    // at the prompt and in the other commands
    assert.match(
      describeError(error),
      /^SyntaxError: \S*lib\/broken\.ts:2:\d+: Unexpected "?;"? \(a file of the package/,
    );
    assert.equal(brokenImportCause(new SyntaxError('Unexpected token')), undefined, 'other errors are not explained');
  });

  it('bundles zod into one module of the cache for the package and session files, remade when zod is updated', async () => {
    // A dependency named zod in the fixture's node_modules, of two modules (zod itself has hundreds).
    const zod = (version: number) => {
      fx.write(
        'node_modules/zod/package.json',
        JSON.stringify({ name: 'zod', version: `${version}.0.0`, type: 'module' }),
      );
      fx.write('node_modules/zod/index.js', `export { tag } from './tag.js';\nexport const version = ${version};\n`);
      fx.write('node_modules/zod/tag.js', 'export const tag = {};\n');
    };
    fx.write('lib/schema.ts', "export { tag, version } from 'zod';\n");
    const bare = new PackageCache(fx.root, fx.cacheDir);
    await bare.refresh();
    assert.match(
      readFileSync(join(fx.cacheDir, 'lib', 'schema.js'), 'utf8'),
      /from "zod"/,
      'not installed: as written',
    );
    assert.equal(bare.dependencyUrl('zod'), undefined);

    zod(1);
    fx.write('lib/schema.ts', "export { tag, version } from 'zod';\nexport const again = 1;\n");
    const cache = new PackageCache(fx.root, fx.cacheDir);
    await cache.refresh();
    const bundle = join(fx.cacheDir, 'deps', 'zod.js');
    assert.equal(cache.dependencyUrl('zod'), pathToFileURL(bundle).href);
    assert.equal(cache.dependencyUrl('zod/v4'), undefined, 'only the bare name');
    const cjs = join(fx.cacheDir, 'deps', 'zod.cjs');
    assert.match(readFileSync(cjs, 'utf8'), /var tag = \{\};[^]*var version = 1;/, 'both modules in one CommonJS file');
    // By absolute path: the cache's own copy of package-cache.ts has import.meta.url pinned to its source.
    const wrapper = readFileSync(bundle, 'utf8');
    assert.ok(
      wrapper.includes(`createRequire(${JSON.stringify(cjs)})(${JSON.stringify(cjs)})`),
      'its ES module requires it',
    );
    assert.ok(!wrapper.includes('import.meta'));
    assert.ok(
      readFileSync(join(fx.cacheDir, 'lib', 'schema.js'), 'utf8').includes(`from "${pathToFileURL(bundle).href}"`),
    );
    const session = fx.write(
      'uses-zod.ts',
      "export { tag } from 'zod';\nexport { tag as ours } from 'concert/lib/schema';\n",
      'sessions',
    );
    const { SessionFiles } = await import('../../../../session/loader/session-files.js');
    const loaded = (await import(new SessionFiles(cache).urlOf(session))) as { tag: object; ours: object };
    assert.equal(loaded.tag, loaded.ours, "a session's zod is the package's");
    const again = await new PackageCache(fx.root, fx.cacheDir).refresh({ onTranspile: () => assert.fail('unchanged') });
    assert.equal(again.transpiled, 0);
    const made = statSync(bundle).mtimeMs;
    await new PackageCache(fx.root, fx.cacheDir).refresh();
    assert.equal(statSync(bundle).mtimeMs, made, 'not bundled again while zod is unchanged');

    zod(22); // an update: the bundle is made again, the package files are left alone
    const updated = await new PackageCache(fx.root, fx.cacheDir).refresh();
    assert.equal(updated.transpiled, 0);
    assert.match(readFileSync(cjs, 'utf8'), /var version = 22;/);
    const fresh = (await import(`${pathToFileURL(bundle).href}?v=22`)) as { version: number };
    assert.equal(fresh.version, 22);
  });
});
