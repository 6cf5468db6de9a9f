import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { isCached, MIN_CACHED_SIZE } from '../../../../session/loader/code-cache.js';
import { cacheKey } from '../../../../session/loader/files.js';

describe('session/loader/code-cache', function () {
  this.timeout(30_000);
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'concert-code-cache-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('handles only big CommonJS files of node_modules and the bundles of the cache', () => {
    assert.ok(isCached('/p/node_modules/mathjs/lib/browser/math.js', MIN_CACHED_SIZE));
    assert.ok(!isCached('/p/node_modules/small/index.js', MIN_CACHED_SIZE - 1));
    assert.ok(!isCached('/p/lib/big.js', MIN_CACHED_SIZE));
    assert.ok(!isCached('/p/node_modules/.cache/concert/core/device.js', MIN_CACHED_SIZE));
    assert.ok(isCached('/p/node_modules/.cache/concert/deps/zod.cjs', MIN_CACHED_SIZE), 'a bundle of the cache');
    assert.ok(isCached('/home/u/.cache/concert/0123/deps/zod.cjs', MIN_CACHED_SIZE));
    assert.ok(!isCached('/p/node_modules/.cache/concert/deps/zod.js', MIN_CACHED_SIZE), 'its ES module');
  });

  it('names cache files by a 16-digit key that is stable and tells close inputs apart', () => {
    const key = cacheKey('/p/node_modules/mathjs/lib/browser/math.js\x001700000000000\x00649724\x00v20.20.2');
    assert.match(key, /^[0-9a-f]{16}$/);
    assert.equal(cacheKey('/p/node_modules/mathjs/lib/browser/math.js\x001700000000000\x00649724\x00v20.20.2'), key);
    assert.equal(cacheKey(''), cacheKey(''));
    // Paths and stamps that differ in one character or one digit.
    const keys = new Set<string>();
    for (let i = 0; i < 20000; i++) keys.add(cacheKey(`/home/user/sessions/s${i}.ts\x00${1700000000000 + i}`));
    for (let i = 0; i < 20000; i++) keys.add(cacheKey(`/home/user/sessions/s${i}.ts\x00${1700000000000 + i + 1}`));
    assert.equal(keys.size, 40000, 'no two of 40000 close inputs share a key');
    assert.notEqual(cacheKey('ab'), cacheKey('ba'));
  });

  it('writes V8 code at exit and compiles with it the next time; the module works the same', () => {
    // A big CommonJS module that requires a neighbour and uses module, exports, __dirname.
    const pkg = join(dir, 'node_modules', 'big');
    mkdirSync(pkg, { recursive: true });
    writeFileSync(join(pkg, 'small.js'), 'module.exports = 40;\n');
    const filler = Array.from({ length: 3000 }, (_, i) => `function f${i}(x) { return x + ${i}; }`).join('\n');
    writeFileSync(
      join(pkg, 'index.js'),
      `${filler}\nmodule.exports = { value: require('./small.js') + f2(0), dir: __dirname, resolved: require.resolve('./small.js') };\n`,
    );
    const codeCache = pathToFileURL(join(process.cwd(), 'session', 'loader', 'code-cache.ts')).href;
    const script = [
      `const { installCodeCache } = await import(${JSON.stringify(codeCache)});`,
      `const stats = installCodeCache(${JSON.stringify(join(dir, 'v8'))});`,
      `const { createRequire } = await import('node:module');`,
      `const big = createRequire(${JSON.stringify(join(dir, 'x.js'))})('big');`,
      `console.log(JSON.stringify({ big, used: stats.used.length, missing: stats.missing.length }));`,
    ].join('\n');
    const run = () => {
      const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
        encoding: 'utf8',
      });
      assert.equal(r.status, 0, r.stderr);
      return JSON.parse(r.stdout) as {
        big: { value: number; dir: string; resolved: string };
        used: number;
        missing: number;
      };
    };
    const first = run();
    assert.deepEqual(first.big, { value: 42, dir: pkg, resolved: join(pkg, 'small.js') });
    assert.deepEqual([first.used, first.missing], [0, 1]);
    assert.equal(readdirSync(join(dir, 'v8')).length, 1);
    const second = run();
    assert.deepEqual(second.big, first.big);
    assert.deepEqual([second.used, second.missing], [1, 0]);
  });
});
