import assert from 'node:assert/strict';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  ModuleNotFoundError,
  exportTarget,
  isConcertSpecifier,
  resolveConcert,
  resolvePathSpecifier,
} from '../../../../session/loader/resolve.js';
import { makeFixture, type Fixture } from './fixture.js';

describe('session/loader/resolve', () => {
  let fx: Fixture;
  beforeEach(() => (fx = makeFixture()));
  afterEach(() => fx.remove());

  it('reads the exports map as node does: exact keys first, then * patterns', () => {
    const map = { '.': './index.ts', './core': './core/index.ts', './*': './*.ts', './x/*.json': './data/*.json' };
    assert.equal(exportTarget(map, '.'), './index.ts');
    assert.equal(exportTarget(map, './core'), './core/index.ts');
    assert.equal(exportTarget(map, './devices/motors/dummy'), './devices/motors/dummy.ts');
    assert.equal(exportTarget({ './x/*.json': './data/*.json' }, './x/a.json'), './data/a.json');
    assert.equal(exportTarget({ '.': './index.ts' }, './other'), undefined);
  });

  it('maps concert and concert/… to the files of the package', () => {
    const map = { '.': './index.ts', './lib': './lib/index.ts', './*': './*.ts' };
    assert.ok(isConcertSpecifier('concert') && isConcertSpecifier('concert/lib') && !isConcertSpecifier('concertina'));
    assert.equal(resolveConcert('concert', fx.root, map), join(fx.root, 'index.ts'));
    assert.equal(resolveConcert('concert/lib', fx.root, map), join(fx.root, 'lib', 'index.ts'));
    assert.equal(resolveConcert('concert/lib/uses-self', fx.root, map), join(fx.root, 'lib', 'uses-self.ts'));
    assert.throws(
      () => resolveConcert('concert/lib/nope', fx.root, map),
      (e: unknown) =>
        e instanceof ModuleNotFoundError &&
        e.code === 'ERR_MODULE_NOT_FOUND' &&
        e.message === "Cannot find module 'concert/lib/nope' in the concert package (for 'concert/lib/nope')",
    );
    assert.throws(() => resolveConcert('concert/x', fx.root, { '.': './index.ts' }), ModuleNotFoundError);
  });

  it('finds the .ts file behind ./x.js, ./x and ./x.ts', () => {
    const lib = join(fx.root, 'lib');
    const file = join(lib, 'index.ts');
    assert.equal(resolvePathSpecifier('./index.js', lib), file);
    assert.equal(resolvePathSpecifier('./index', lib), file);
    assert.equal(resolvePathSpecifier('./index.ts', lib), file);
    assert.equal(resolvePathSpecifier('../data.json', lib), join(fx.root, 'data.json'));
    assert.equal(resolvePathSpecifier(pathToFileURL(file).href, '/'), file);
    assert.throws(() => resolvePathSpecifier('./missing', lib), /Cannot find module '.*missing' \(for '\.\/missing'\)/);
    // a directory is not a module
    assert.throws(() => resolvePathSpecifier('../lib', lib), ModuleNotFoundError);
  });
});
