import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { q } from '../../../../core/index.js';
import { installQuantityInspection } from '../../../../session/repl/inspection.js';
import { TestRepl } from './support.js';

describe('session/repl/inspection', () => {
  it('prints quantities as 2 mm, also inside objects and arrays', async () => {
    installQuantityInspection();
    assert.equal(inspect(q('2 mm')), '2 mm');
    assert.equal(inspect({ at: [q('1.5 deg'), q(3, 'um')] }), '{ at: [ 1.5 deg, 3 um ] }');
    const t = new TestRepl({ inspQ: q });
    try {
      assert.equal(await t.run('inspQ("10 mm/s")'), '10 mm / s');
    } finally {
      await t.close();
    }
  });
});
