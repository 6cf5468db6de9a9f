import assert from 'node:assert/strict';
import { makeFrame, OptionError } from '../../../core/index.js';
import {
  ContrastMapper,
  drawText,
  mapPixel,
  overlayText,
  parseContrast,
  parseContrastArgument,
  percentiles,
} from '../../../video/index.js';

describe('video/contrast', () => {
  it('maps a fixed window linearly to 0…255, clamping outside it', () => {
    const frame = makeFrame(new Uint16Array([0, 100, 150, 200, 300, 65535]), [1, 6]);
    const mapper = new ContrastMapper(parseContrast({ min: 100, max: 200 }));
    assert.deepEqual([...mapper.map(frame)], [0, 0, 128, 255, 255, 255]);
    assert.equal(mapPixel(150, 100, 200), 128);
    const floats = makeFrame(new Float32Array([-1, 0, 0.5, 1, 2, NaN]), [1, 6]);
    assert.deepEqual([...new ContrastMapper(parseContrast({ min: 0, max: 1 })).map(floats)], [0, 0, 128, 255, 255, 0]);
    const signed = makeFrame(new Int16Array([-32768, -100, 0, 100, 32767]), [1, 5]);
    assert.deepEqual(
      [...new ContrastMapper(parseContrast({ min: -100, max: 100 })).map(signed)],
      [0, 0, 128, 255, 255],
    );
  });

  it('auto: percentiles of the first frames, kept for later frames; uint8 unchanged without a contrast', () => {
    const ramp = (offset: number) =>
      makeFrame(
        Uint16Array.from({ length: 1001 }, (_, i) => i + offset),
        [1, 1001],
      );
    assert.deepEqual(percentiles([ramp(0)], 0.5, 99.5), [5, 995]);
    assert.deepEqual(percentiles([ramp(0), ramp(1000)], 0, 100), [0, 2000]);
    const mapper = new ContrastMapper();
    assert.equal(mapper.calibrationFrames, 10);
    mapper.calibrate([ramp(0)]);
    assert.deepEqual(mapper.window, [5, 995]);
    assert.equal(mapper.calibrationFrames, 0);
    const later = mapper.map(ramp(500));
    assert.equal(later[0], mapPixel(500, 5, 995));
    assert.equal(later[1000], 255);
    const bytes = makeFrame(new Uint8Array([0, 7, 255]), [1, 3]);
    assert.deepEqual([...new ContrastMapper().map(bytes)], [0, 7, 255]);
  });

  it('frame: each frame gets its own window; floats are sampled', () => {
    const mapper = new ContrastMapper(parseContrast('frame'));
    for (const scale of [1, 1000]) {
      const f = makeFrame(
        Float64Array.from({ length: 2001 }, (_, i) => i * scale),
        [1, 2001],
      );
      const image = mapper.map(f);
      assert.equal(image[0], 0);
      assert.equal(image[2000], 255);
      assert.equal(image[1000], 128);
    }
  });

  it('a flat frame maps to black, not to a division by zero', () => {
    const mapper = new ContrastMapper();
    assert.deepEqual([...mapper.map(makeFrame(new Uint16Array(4).fill(7), [2, 2]))], [0, 0, 0, 0]);
  });

  it('checks specs with messages that say what is allowed', () => {
    assert.deepEqual(parseContrast(undefined), { mode: 'percentiles', low: 0.5, high: 99.5, frames: 10 });
    assert.deepEqual(parseContrast({ low: 1, high: 99, frames: 3 }), {
      mode: 'percentiles',
      low: 1,
      high: 99,
      frames: 3,
    });
    assert.deepEqual(parseContrast({ perFrame: true }), { mode: 'frame', low: 0.5, high: 99.5 });
    assert.deepEqual(parseContrastArgument('100,4000'), { mode: 'fixed', min: 100, max: 4000 });
    assert.deepEqual(parseContrastArgument('-0.5, 1.5'), { mode: 'fixed', min: -0.5, max: 1.5 });
    assert.throws(() => parseContrast({ min: 5, max: 5 }), {
      name: 'OptionError',
      message: /max must be greater than min/,
    });
    assert.throws(
      () => parseContrast('bright' as never),
      (e: unknown) => e instanceof OptionError && /'auto', 'frame'/.test(e.message),
    );
    assert.throws(() => parseContrast({ low: 50, high: 20 }), /0 ≤ low < high ≤ 100/);
    assert.throws(() => parseContrast({ gamma: 2 } as never), /unknown key 'gamma'/);
    assert.throws(() => parseContrastArgument('1..2'), /--contrast must be auto, frame or MIN,MAX/);
  });

  it('overlay: draws the frame number and angle in the top-left corner', () => {
    assert.equal(overlayText({ frameNumber: 12, timestamp: 0, angle: 45 }, ['frameNumber', 'angle']), '#12  45.00°');
    assert.equal(overlayText({ frameNumber: 3, timestamp: 0 }, ['frameNumber', 'angle']), '#3');
    const image = new Uint8Array(40 * 12).fill(128);
    drawText(image, 40, 12, '#1');
    assert.equal(image[0], 0, 'black box');
    assert.equal(image[39], 128, 'the box ends after the text');
    assert.ok(image.subarray(0, 40 * 9).includes(255), 'white glyph pixels');
  });
});
