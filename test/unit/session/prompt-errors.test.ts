/**
 * Errors at the prompt of the real CLI: located in what was typed (not in the rewritten input
 * node runs), with the nearest name for a typo.
 */
import assert from 'node:assert/strict';
import { concert, removeTemp, tempHome } from './support.js';

describe('errors at the prompt (real CLI)', function () {
  this.timeout(60_000);
  let home: string;
  beforeEach(() => (home = tempHome()));
  afterEach(() => removeTemp(home));

  it('say where in the typed line the typo is and which name was meant', () => {
    const r = concert(home, ['start', 'demo'], {
      input: [
        'await flatMotor.setPositon(q("1 mm"))',
        'const typed: number = 3; flatMotr.getPosition()',
        'experiment.rnu()',
      ].join('\n'),
      timeoutMs: 60_000,
    });
    assert.match(
      r.stdout,
      /TypeError: flatMotor\.setPositon is not a function \(at <prompt>:1:17\); did you mean setPosition\?/,
    );
    assert.match(r.stdout, /ReferenceError: flatMotr is not defined \(at <prompt>:1:26\); did you mean flatMotor\?/);
    assert.match(r.stdout, /TypeError: experiment\.rnu is not a function \(at <prompt>:1:12\); did you mean run\?/);
    assert.equal(r.status, 1);
  });
});
