import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { PackageCache } from '../../../../session/loader/package-cache.js';
import { ModuleNotFoundError } from '../../../../session/loader/resolve.js';
import { SessionFiles } from '../../../../session/loader/session-files.js';
import { TranspileError } from '../../../../session/loader/transform.js';
import { makeFixture, type Fixture } from './fixture.js';

describe('session/loader/session-files', function () {
  this.timeout(30_000);
  let fx: Fixture;
  let cache: PackageCache;
  let files: SessionFiles;
  beforeEach(async () => {
    fx = makeFixture();
    cache = new PackageCache(fx.root, fx.cacheDir);
    await cache.refresh();
    files = new SessionFiles(cache);
  });
  afterEach(() => fx.remove());

  it('loads a session file from anywhere, importing concert, concert/… and its own .ts files', async () => {
    fx.write('helper.ts', 'export const factor: number = 3;\nexport type Unused = string;\n', 'sessions');
    const session = fx.write(
      'mine.ts',
      [
        'import { twice, type Counter } from "concert";', // a type-only name in a value import is fine in sessions
        'import { Counter as C } from "concert/lib";',
        'import { factor, Unused } from "./helper";',
        'import { counter } from "concert/lib/uses-self";',
        'const c: Counter = new C();',
        'export const value: number = twice(factor);',
        'export const same = counter instanceof C && c instanceof C;',
        'export const where = import.meta.url;',
        'export const later = (await import("./helper.ts")).factor;',
        'let u: Unused | undefined;',
      ].join('\n'),
      'sessions',
    );
    const m = (await import(files.urlOf(session))) as Record<string, unknown>;
    assert.deepEqual({ ...m }, { value: 6, same: true, where: pathToFileURL(session).href, later: 3 });
  });

  it('transpiles a session again only when it or a file it imports changed', async () => {
    fx.write('helper.ts', 'export const factor = 3;\n', 'sessions');
    const session = fx.write('s.ts', 'import { factor } from "./helper.js";\nexport const v = factor;\n', 'sessions');
    const out = fileURLToPath(files.urlOf(session));
    const helperOut = readFileSync(out, 'utf8').match(/from "(file:[^"]+)"/)![1]!;
    const stamp = statSync(out).mtimeMs;
    const helperStamp = statSync(fileURLToPath(helperOut)).mtimeMs;
    assert.equal(fileURLToPath(files.urlOf(session)), out);
    assert.equal(statSync(out).mtimeMs, stamp, 'unchanged: not transpiled again');
    fx.write('helper.ts', 'export const factor = 4; // changed\n', 'sessions');
    files.urlOf(session);
    assert.equal(statSync(out).mtimeMs, stamp, 'the session itself did not change');
    assert.notEqual(statSync(fileURLToPath(helperOut)).mtimeMs, helperStamp, 'its import did');
    assert.match(readFileSync(fileURLToPath(helperOut), 'utf8'), /factor = 4/);
  });

  it('names what cannot be imported, and where a syntax error is', () => {
    const missing = fx.write('m.ts', 'import { x } from "concert/lib/nope";\nexport { x };\n', 'sessions');
    assert.throws(
      () => files.urlOf(missing),
      (e: unknown) => e instanceof ModuleNotFoundError && /\(for 'concert\/lib\/nope'\)$/.test(e.message),
    );
    const noFile = fx.write('n.ts', 'import { x } from "./nowhere";\nexport { x };\n', 'sessions');
    assert.throws(() => files.urlOf(noFile), /Cannot find module '.*nowhere' \(for '\.\/nowhere'\)/);
    fx.write('bad.ts', 'export const a = 1;\nexport const b = a +* 2;\n', 'sessions');
    const importsBad = fx.write('i.ts', 'import { b } from "./bad.ts";\nexport { b };\n', 'sessions');
    assert.throws(
      () => files.urlOf(importsBad),
      (e: unknown) =>
        e instanceof TranspileError &&
        e.errors[0]!.location!.file === join(fx.sessions, 'bad.ts') &&
        e.errors[0]!.location!.line === 2 &&
        /Unexpected "\*"/.test(e.message),
    );
  });

  it('maps specifiers typed at the prompt', () => {
    assert.equal(files.resolve('node:fs'), undefined);
    assert.equal(files.resolve('rxjs'), undefined);
    assert.equal(files.resolve('concert'), cache.urlOf('index.ts'));
    const helper = fx.write('p.ts', 'export const p = 1;\n', 'sessions');
    assert.match(files.resolve(helper)!, /\/ext\/[0-9a-f]{16}\.js$/);
  });
});
