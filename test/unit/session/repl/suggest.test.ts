import assert from 'node:assert/strict';
import { editDistance } from '../../../../core/index.js';
import { locateInInput, nearest, suggestion } from '../../../../session/repl/suggest.js';
import { LinearMotor } from '../../../../devices/motors/dummy.js';

describe('session/repl/suggest', () => {
  it('finds the nearest name of a typo, and nothing for what is too far', () => {
    assert.equal(editDistance('setPositon', 'setPosition'), 1);
    assert.equal(editDistance('rnu', 'run'), 1, 'an adjacent swap is one edit');
    assert.equal(nearest('setPositon', ['setPosition', 'getPosition', 'stop']), 'setPosition');
    assert.equal(nearest('flatmotor', ['flatMotor', 'camera']), 'flatMotor', 'case differences');
    assert.equal(nearest('xyz', ['camera', 'shutter']), undefined);
  });

  it('suggests public members only, and globals for an undefined name', async () => {
    const sugMotor = await LinearMotor.create();
    const scope = { sugMotor, camera: {} };
    assert.equal(
      suggestion(new TypeError('sugMotor.stopHok is not a function'), scope),
      undefined,
      'stopHook is protected: not suggested',
    );
    assert.equal(
      suggestion(new TypeError('sugMotor.setPositon is not a function'), scope),
      'did you mean setPosition?',
    );
    const ref = new ReferenceError('sugMotr is not defined');
    assert.equal(suggestion(ref, scope), 'did you mean sugMotor?');
  });

  it('locates the mistyped name in what was typed', () => {
    const e = new TypeError('flatMotor.setPositon is not a function');
    assert.deepEqual(locateInInput(e, 'await flatMotor.setPositon(q("1 mm"))'), { line: 1, column: 17 });
    assert.deepEqual(locateInInput(new ReferenceError('flatMotr is not defined'), 'const a = 1;\nflatMotr.x'), {
      line: 2,
      column: 1,
    });
    assert.equal(locateInInput(new Error('other'), 'x'), undefined);
  });
});
