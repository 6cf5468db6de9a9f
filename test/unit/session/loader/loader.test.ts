import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Loader } from '../../../../session/loader/loader.js';
import { makeFixture, type Fixture } from './fixture.js';

type Flags = { preloaded?: boolean; sessionRan?: boolean };
const flags = globalThis as Flags;

describe('session/loader/loader', function () {
  this.timeout(30_000);
  let fx: Fixture;
  beforeEach(() => (fx = makeFixture()));
  afterEach(() => {
    delete flags.preloaded;
    delete flags.sessionRan;
    fx.remove();
  });

  it('prepareSession loads the package modules a session imports, also relatively (a shipped session), but not the session', async () => {
    fx.write('lib/flag.ts', '(globalThis as { preloaded?: boolean }).preloaded = true;\nexport const flag = 1;\n');
    const session = fx.write(
      'sessions/shipped.ts',
      "import { flag } from '../lib/flag.js';\n(globalThis as { sessionRan?: boolean }).sessionRan = true;\nexport { flag };\n",
    );
    const loader = new Loader(fx.root, fx.cacheDir);
    await loader.refresh();
    const url = await loader.prepareSession(session);
    assert.equal(url, loader.cache.urlOf(join(fx.root, 'sessions', 'shipped.ts')));
    assert.deepEqual([flags.preloaded, flags.sessionRan], [true, undefined]);
    assert.equal(((await loader.importSession(session)) as { flag: number }).flag, 1);
    assert.equal(flags.sessionRan, true);
  });
});
