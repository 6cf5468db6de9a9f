import assert from 'node:assert/strict';
import { dtypeOf, frameBytes, isDType, itemSize, makeFrame, ParameterError } from '../../../core/index.js';
import { throwsWith } from '../../support/async.js';

describe('core/frame', () => {
  it('makes frames without copying and checks the shape', () => {
    const data = new Uint16Array([1, 2, 3, 4, 5, 6]);
    const f = makeFrame(data, [2, 3], { frameNumber: 4 });
    assert.equal(f.data, data);
    assert.equal(f.dtype, 'uint16');
    assert.deepEqual(f.shape, [2, 3]);
    assert.equal(f.metadata.frameNumber, 4);
    assert.equal(typeof f.metadata.timestamp, 'number');
    const bytes = frameBytes(f);
    assert.equal(bytes.buffer, data.buffer);
    assert.equal(bytes.length, 12);
    throwsWith(() => makeFrame(data, [2, 2]), ParameterError, 'frame data has 6 pixels but shape [2, 2] needs 4');
    throwsWith(() => makeFrame(data, [1.5, 4]), ParameterError, /two non-negative integers/);
    assert.equal(itemSize('float64'), 8);
    assert.equal(dtypeOf(new Float32Array(1)), 'float32');
    assert.ok(isDType('int8') && !isDType('uint64') && !isDType('toString'));
  });
});
