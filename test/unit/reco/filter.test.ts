import assert from 'node:assert/strict';
import { FILTER_NAMES, RowFilter, filterResponse, paddedSize } from '../../../reco/index.js';
import FFT from 'fft.js';
import { ParameterError } from '../../../core/errors.js';

/** The filter as first written (zero-filled scratch, filter then widen in two passes): the reference. */
function referenceFilter(f: RowFilter, input: Float32Array, rows: number, scale: number): Float32Array {
  const { width, size, oversample: os, outputWidth: ow } = f;
  const fft = new FFT(size);
  const inverse = new FFT(size * os);
  const out = new Float32Array(rows * ow);
  for (let r = 0; r < rows; r += 2) {
    const pair = r + 1 < rows;
    const data = new Float64Array(2 * size);
    for (let i = 0; i < width; i++) {
      data[2 * i] = input[r * width + i]!;
      if (pair) data[2 * i + 1] = input[(r + 1) * width + i]!;
    }
    if (f.padding === 'edge') {
      const half = width + ((size - width) >> 1);
      for (let i = width; i < size; i++) {
        const at = i < half ? width - 1 : 0;
        data[2 * i] = input[r * width + at]!;
        data[2 * i + 1] = pair ? input[(r + 1) * width + at]! : 0;
      }
    }
    const spectrum = new Float64Array(2 * size);
    fft.transform(spectrum, data);
    for (let k = 0; k < 2 * size; k++) spectrum[k]! *= f.response[k >> 1]! * scale;
    const wide = new Float64Array(2 * size * os);
    const big = size * os;
    const half = size / 2;
    for (let k = 0; k < half; k++) for (const c of [0, 1]) wide[2 * k + c] = os * spectrum[2 * k + c]!;
    for (let k = 1; k < half; k++) for (const c of [0, 1]) wide[2 * (big - k) + c] = os * spectrum[2 * (size - k) + c]!;
    for (const c of [0, 1]) {
      const v = os === 1 ? spectrum[2 * half + c]! : (os * spectrum[2 * half + c]!) / 2;
      wide[2 * half + c] = v;
      if (os > 1) wide[2 * (big - half) + c] = v;
    }
    const result = new Float64Array(2 * big);
    inverse.inverseTransform(result, wide);
    for (let i = 0; i < ow; i++) {
      out[r * ow + i] = result[2 * i]!;
      if (pair) out[(r + 1) * ow + i] = result[2 * i + 1]!;
    }
  }
  return out;
}

describe('reco/filter', () => {
  it('pads to a power of two at least twice the width', () => {
    assert.equal(paddedSize(1), 64);
    assert.equal(paddedSize(100), 256);
    assert.equal(paddedSize(512), 1024);
    assert.equal(paddedSize(513), 2048);
    assert.throws(() => paddedSize(0), ParameterError);
  });

  it('builds even responses: ramp ≈ |f|, windows below it, Hann zero at Nyquist', () => {
    const n = 256;
    const ramp = filterResponse(n, 'ramp');
    for (const name of FILTER_NAMES) {
      const h = filterResponse(n, name);
      for (let k = 1; k < n / 2; k++) assert.ok(Math.abs(h[k]! - h[n - k]!) < 1e-12, `${name} even at ${k}`);
      for (let k = 0; k < n; k++) assert.ok(h[k]! <= ramp[k]! + 1e-12, `${name} ≤ ramp at ${k}`);
    }
    // DC of the band-limited ramp is small and positive (1/4 − Σ 2/(πk)², not 0), Nyquist ≈ ½.
    assert.ok(ramp[0]! > 0 && ramp[0]! < 2 / n, `DC ${ramp[0]}`);
    assert.ok(Math.abs(ramp[n / 2]! - 0.5) < 1 / n);
    for (let k = 4; k < n / 2; k += 7)
      assert.ok(Math.abs(ramp[k]! - k / n) < 2 / n, `ramp at ${k}: ${ramp[k]} vs ${k / n}`);
    assert.ok(Math.abs(filterResponse(n, 'hann')[n / 2]!) < 1e-12);
    assert.ok(Math.abs(filterResponse(n, 'cosine')[n / 2]!) < 1e-12);
    assert.throws(() => filterResponse(100, 'ramp'), ParameterError);
    assert.throws(() => filterResponse(64, 'bogus' as never), /unknown filter/);
  });

  it('filters a delta into the ramp kernel and two packed rows like one each', () => {
    const w = 64;
    const f = new RowFilter(w);
    const delta = new Float32Array(w);
    delta[20] = 1;
    const out = new Float32Array(w);
    f.apply(delta, out, 1);
    assert.ok(Math.abs(out[20]! - 0.25) < 1e-6);
    for (const k of [1, 3, 5]) {
      assert.ok(Math.abs(out[20 + k]! + 1 / (Math.PI * k) ** 2) < 1e-6, `kernel at +${k}`);
      assert.ok(Math.abs(out[20 - k]! + 1 / (Math.PI * k) ** 2) < 1e-6, `kernel at −${k}`);
    }
    assert.ok(Math.abs(out[22]!) < 1e-6);
    const rows = Float32Array.from({ length: 3 * w }, (_, i) => Math.sin(i * 0.37) + (i % 7));
    const together = new Float32Array(3 * w);
    f.apply(rows, together, 3, 2);
    for (let r = 0; r < 3; r++) {
      const alone = new Float32Array(w);
      f.apply(rows.subarray(r * w, (r + 1) * w), alone, 1, 2);
      for (let i = 0; i < w; i++) assert.ok(Math.abs(alone[i]! - together[r * w + i]!) < 1e-5);
    }
  });

  it('oversamples by band-limited interpolation, keeping the original samples', () => {
    const w = 100;
    const row = Float32Array.from({ length: w }, (_, i) => Math.exp(-(((i - 50) / 12) ** 2)));
    const one = new Float32Array(w);
    new RowFilter(w).apply(row, one);
    for (const os of [2, 4]) {
      const f = new RowFilter(w, { oversample: os, filter: 'shepp-logan' });
      const ref = new Float32Array(w);
      new RowFilter(w, { filter: 'shepp-logan' }).apply(row, ref);
      const out = new Float32Array(w * os);
      f.apply(row, out);
      assert.equal(f.outputWidth, w * os);
      for (let i = 0; i < w; i++) assert.ok(Math.abs(out[i * os]! - ref[i]!) < 1e-5, `os ${os} sample ${i}`);
    }
    assert.throws(() => new RowFilter(w, { oversample: 3 }), ParameterError);
  });

  it('edge padding repeats the edges instead of zeros', () => {
    const w = 32;
    const flat = new Float32Array(w).fill(1);
    const zero = new Float32Array(w);
    const edge = new Float32Array(w);
    new RowFilter(w).apply(flat, zero);
    new RowFilter(w, { padding: 'edge' }).apply(flat, edge);
    // A constant row extended by its edges is constant: the ramp (≈ 0 at DC) leaves ≈ nothing.
    for (const v of edge) assert.ok(Math.abs(v) < 0.01, `edge ${v}`);
    assert.ok(Math.abs(zero[0]!) > 0.1);
  });

  it('gives bit-identical rows to the reference filter, call after call (reused scratch stays clean)', () => {
    const w = 100;
    let seed = 3;
    const input = Float32Array.from({ length: 3 * w }, () => (seed = (seed * 16807) % 2147483647) / 2147483647);
    for (const os of [1, 2, 4])
      for (const padding of ['zero', 'edge'] as const)
        for (const rows of [3, 2, 1]) {
          const f = new RowFilter(w, { oversample: os, padding, filter: 'hann' });
          const expected = referenceFilter(f, input, rows, 0.37);
          for (let call = 0; call < 2; call++) {
            const out = new Float32Array(rows * f.outputWidth);
            f.apply(input, out, rows, 0.37);
            assert.deepEqual(out, expected, `os ${os}, ${padding}, ${rows} rows, call ${call}`);
          }
        }
  });
});
