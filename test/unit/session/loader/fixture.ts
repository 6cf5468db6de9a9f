/**
 * A small package on disk for the loader tests: package.json with an `exports` map like
 * Concert's, a few TypeScript modules, and a folder elsewhere for session files.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/** A package at `root` (cache in `root/node_modules/.cache/concert`) and a session folder `sessions`. */
export interface Fixture {
  root: string;
  cacheDir: string;
  sessions: string;
  /** Writes `text` to `root/rel` (or `sessions/rel` with `where: 'sessions'`). */
  write(rel: string, text: string, where?: 'root' | 'sessions'): string;
  remove(): void;
}

/** Creates the fixture package. */
export function makeFixture(): Fixture {
  const base = mkdtempSync(join(tmpdir(), 'concert-loader-'));
  const root = join(base, 'pkg');
  const sessions = join(base, 'sessions');
  mkdirSync(sessions, { recursive: true });
  const write = (rel: string, text: string, where: 'root' | 'sessions' = 'root') => {
    const path = join(where === 'root' ? root : sessions, rel);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, text);
    return path;
  };
  write(
    'package.json',
    JSON.stringify({
      name: 'concert',
      type: 'module',
      exports: { '.': './index.ts', './lib': './lib/index.ts', './data.json': './data.json', './*': './*.ts' },
    }),
  );
  write('data.json', '{ "answer": 42 }');
  write('index.ts', "export { twice, where } from './lib/index.js';\nexport const kind: string = 'root';\n");
  write(
    'lib/index.ts',
    [
      'export function twice(x: number): number {',
      '  return 2 * x;',
      '}',
      '/** The file this module was transpiled from. */',
      'export const where: string = import.meta.url;',
      '/** The same words in a string and a template, as they were written. */',
      "export const words: string[] = ['import.meta.url', `import.meta.dirname`];",
      'export class Counter {',
      '  count = 0;',
      '}',
    ].join('\n'),
  );
  write('lib/uses-self.ts', "import { Counter } from 'concert/lib';\nexport const counter = new Counter();\n");
  write('test/ignored.ts', 'this is not even TypeScript');
  return {
    root,
    cacheDir: join(root, 'node_modules', '.cache', 'concert'),
    sessions,
    write,
    remove: () => rmSync(base, { recursive: true, force: true }),
  };
}
