/**
 * Mirror (left-right flip) and rotation by quarter turns, as numpy's `fliplr` and `rot90`, of
 * grey and colour (rgb24: 3 samples per pixel) frames.
 * @module
 * @internal
 */
import { arrayConstructor, channelsOf, type Frame } from '../../core/index.js';

/**
 * A new frame: `frame` flipped left-right if `mirror`, then rotated `k` quarter turns
 * counter-clockwise. Undo with {@link unmirrorRotate}.
 */
export function mirrorRotate(frame: Frame, mirror: boolean, k: number): Frame {
  const [h, w] = frame.shape;
  const src = frame.data;
  const ch = channelsOf(frame);
  const turns = ((k % 4) + 4) % 4;
  const out = new (arrayConstructor(frame.dtype))(src.length);
  const [oh, ow] = turns % 2 === 0 ? [h, w] : [w, h];
  for (let r = 0; r < oh; r++) {
    for (let c = 0; c < ow; c++) {
      // (r, c) in the output comes from (sr, sc) in the mirrored input.
      let sr: number, sc: number;
      if (turns === 0) [sr, sc] = [r, c];
      else if (turns === 1) [sr, sc] = [c, w - 1 - r];
      else if (turns === 2) [sr, sc] = [h - 1 - r, w - 1 - c];
      else [sr, sc] = [h - 1 - c, r];
      if (mirror) sc = w - 1 - sc;
      // a colour pixel moves with its samples, in their order
      const to = (r * ow + c) * ch;
      const from = (sr * w + sc) * ch;
      for (let s = 0; s < ch; s++) out[to + s] = src[from + s]!;
    }
  }
  return {
    data: out,
    shape: [oh, ow],
    dtype: frame.dtype,
    metadata: frame.metadata,
    ...(ch === 3 ? { channels: 3 } : {}),
  };
}

/** Undoes {@link mirrorRotate}: rotates back, then flips back. */
export function unmirrorRotate(frame: Frame, mirror: boolean, k: number): Frame {
  const back = mirrorRotate(frame, false, -k);
  return mirror ? mirrorRotate(back, true, 0) : back;
}
