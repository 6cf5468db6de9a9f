import assert from 'node:assert/strict';
import { ConcertError, LimitError } from '../../../core/errors.js';
import { describeError } from '../../../session/errors.js';
import { describeLoadError } from '../../../session/loader/index.js';
import { sessionFunctions } from '../../../session/helpers.js';

describe('session/errors', () => {
  it('prints Concert errors as Sorry, …', () => {
    assert.equal(
      describeError(new LimitError('m.position: 12 mm is out of range')),
      'Sorry, m.position: 12 mm is out of range',
    );
    assert.equal(describeError(new ConcertError('x')), 'Sorry, x');
  });

  it('prints other errors with the location in the given files', () => {
    const e = new TypeError('x is not a function');
    e.stack = 'TypeError: x is not a function\n    at f (/lib/a.js:1:2)\n    at REPL3:1:5';
    assert.equal(describeError(e, ['REPL']), 'TypeError: x is not a function (at <prompt>:1:5)');
    assert.equal(describeError(new DOMException('stopped', 'AbortError')), 'Cancelled: stopped');
  });

  it('locates load errors in the session file', () => {
    const e = new Error('boom');
    e.stack = 'Error: boom\n    at file:///s/x.ts:4:7\n    at ModuleJob.run (node:internal/modules/esm/module_job:1:1)';
    assert.equal(describeLoadError(e, '/s/x.ts', ''), '/s/x.ts:4:7: Error: boom\nThe session failed to load.');
    const missing = Object.assign(new Error("Cannot find module '/p/devices/nope.ts' (for 'concert/devices/nope')"), {
      code: 'ERR_MODULE_NOT_FOUND',
    });
    assert.equal(
      describeLoadError(
        missing,
        '/s/x.ts',
        'import { q } from "concert";\nimport { N } from "concert/devices/nope";\n',
      ).split('\n')[0],
      "/s/x.ts:2:19: cannot import 'concert/devices/nope': Cannot find module '/p/devices/nope.ts' (for 'concert/devices/nope')",
    );
  });

  it('pdoc lists exported functions with the first sentence of their doc comment', () => {
    const source =
      '/** Moves it. More text. */\nexport async function go(a: number, b = 2) {}\nexport function bare() {}\n';
    const fns = sessionFunctions(source, { go: () => {}, bare: () => {}, Klass: class {}, value: 3 });
    assert.deepEqual(fns, [
      { name: 'bare', signature: '()', doc: '' },
      { name: 'go', signature: '(a: number, b = 2)', doc: 'Moves it.' },
    ]);
  });
});
