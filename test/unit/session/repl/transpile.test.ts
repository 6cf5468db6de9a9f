import assert from 'node:assert/strict';
import { IncompleteInput, InputSyntaxError, transpile } from '../../../../session/repl/transpile.js';

describe('session/transpile', () => {
  it('strips types and keeps top-level await', () => {
    assert.equal(transpile('const x: number = await f()'), 'const x = await f();\n');
    assert.equal(transpile('type T = number'), '');
  });

  it('rewrites static imports to dynamic ones and drops export', () => {
    assert.equal(transpile('import { q, a as b } from "concert"'), 'const { q, a: b } = await import("concert");\n');
    assert.equal(transpile('import * as ns from "x"'), 'const ns = await import("x");\n');
    assert.equal(transpile('import D, { e } from "y"'), 'const { default: D, e } = await import("y");\n');
    assert.equal(transpile('import "z"'), 'await import("z");\n');
    assert.equal(transpile('export const z = 3').trim(), 'const z = 3;');
  });

  it('maps specifiers when asked', () => {
    const map = (s: string) => (s === 'concert' ? 'file:///c/index.js' : undefined);
    assert.equal(transpile('import { q } from "concert"', map), 'const { q } = await import("file:///c/index.js");\n');
    assert.equal(
      transpile('const m = await import("concert")', map),
      'const m = await import("file:///c/index.js");\n',
    );
    assert.equal(transpile('import { x } from "other"', map), 'const { x } = await import("other");\n');
  });

  it('treats { … } as an object literal', () => {
    assert.equal(transpile('{ a: 1 }'), '({ a: 1 });\n');
  });

  it('asks for more input when a statement is open', () => {
    for (const open of ['if (x) {', 'foo(', '`abc', 'let y = 1 +', '/* comment'])
      assert.throws(() => transpile(open), IncompleteInput, open);
  });

  it('reports syntax errors with line and column', () => {
    assert.throws(
      () => transpile('const ok = 1\nconst = 5'),
      (e: unknown) =>
        e instanceof InputSyntaxError &&
        e.line === 2 &&
        e.column === 7 &&
        /Variable declaration expected/.test(e.message),
    );
  });
});
