import assert from 'node:assert/strict';
import { makeFrame } from '../../../../core/index.js';
import { mirrorRotate, unmirrorRotate } from '../../../../devices/cameras/index.js';

describe('devices/cameras/orientation', () => {
  const frame = makeFrame(new Float32Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]), [3, 4], { frameNumber: 7 });

  it('unmirrorRotate undoes mirrorRotate for every mirror and k (also negative and > 3)', () => {
    for (const mirror of [false, true]) {
      for (const k of [-1, 0, 1, 2, 3, 5]) {
        const turned = mirrorRotate(frame, mirror, k);
        const back = unmirrorRotate(turned, mirror, k);
        assert.deepEqual(back.shape, [3, 4], `mirror ${mirror} k ${k}`);
        assert.deepEqual(Array.from(back.data), Array.from(frame.data), `mirror ${mirror} k ${k}`);
        assert.equal(back.dtype, 'float32');
        assert.equal(back.metadata.frameNumber, 7);
      }
    }
  });

  it('k = -1 is k = 3 (numpy rot90(a, -1))', () => {
    assert.deepEqual(Array.from(mirrorRotate(frame, false, -1).data), [9, 5, 1, 10, 6, 2, 11, 7, 3, 12, 8, 4]);
  });

  it('returns a new array and leaves the input untouched', () => {
    const out = mirrorRotate(frame, true, 1);
    assert.notEqual(out.data, frame.data);
    assert.deepEqual(Array.from(frame.data), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
  });
});
