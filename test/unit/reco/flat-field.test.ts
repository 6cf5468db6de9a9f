import assert from 'node:assert/strict';
import { RunningAverage, correctRows, flatFieldCorrect } from '../../../reco/index.js';
import { makeFrame } from '../../../core/frame.js';
import { ParameterError } from '../../../core/errors.js';

describe('reco/flat-field', () => {
  it('averages frames as they arrive and keeps the last', () => {
    const avg = new RunningAverage(3);
    avg.add(new Uint16Array([1, 2, 3]));
    avg.add(new Uint16Array([3, 4, 5]));
    assert.deepEqual([...avg.mean], [2, 3, 4]);
    assert.deepEqual([...avg.last], [3, 4, 5]);
    assert.equal(avg.count, 2);
    assert.throws(() => avg.add(new Uint16Array(2)), ParameterError);
    avg.reset();
    assert.equal(avg.count, 0);
  });

  it('corrects (p − dark) / (flat − dark), with −log and NaN/Inf fixing', () => {
    const dark = new Float32Array([10, 10, 10, 10]);
    const flat = new Float32Array([110, 210, 10, 60]);
    const frame = makeFrame(new Uint16Array([60, 110, 10, 10]), [2, 2]);
    const plain = flatFieldCorrect(frame, dark, flat);
    assert.deepEqual([...plain.subarray(0, 2)], [0.5, 0.5]);
    assert.ok(Number.isNaN(plain[2]!));
    assert.equal(plain[3], 0);
    const fixed = flatFieldCorrect(frame, dark, flat, { absorptivity: true, fixNanAndInf: true });
    assert.ok(Math.abs(fixed[0]! - Math.log(2)) < 1e-6);
    assert.equal(fixed[2], 0);
    assert.equal(fixed[3], 0); // −log 0 = Inf → 0
    const darkOnly = new Float32Array(2);
    correctRows(frame.data, 2, [1], darkOnly, dark, flat, { flatCorrect: false });
    assert.deepEqual([...darkOnly], [0, 0]);
    assert.throws(() => flatFieldCorrect(frame, new Float32Array(3), flat), /dark has 3 pixels/);
  });
});
