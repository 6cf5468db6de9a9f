import assert from 'node:assert/strict';
import { MODIFIED_SHEPP_LOGAN, phantomProjection, phantomSinogram, sheppLogan } from '../../../reco/index.js';

describe('reco/phantom', () => {
  it('renders the modified Shepp-Logan values (0…1, skull 1, brain 0.2)', () => {
    const n = 128;
    const image = sheppLogan(n);
    const at = (x: number, y: number): number =>
      image[Math.round((n - 1) / 2 - (y * n) / 2) * n + Math.round((n - 1) / 2 + (x * n) / 2)]!;
    assert.equal(MODIFIED_SHEPP_LOGAN.length, 10);
    assert.ok(Math.abs(at(0, 0) - 0.2) < 1e-6);
    assert.ok(Math.abs(at(0, 0.9) - 1) < 1e-6);
    assert.ok(Math.abs(at(0.95, 0.95)) < 1e-6);
    assert.ok(Math.abs(at(0, 0.35) - 0.3) < 1e-6);
    assert.ok(Math.max(...image) <= 1 + 1e-6 && Math.min(...image) >= -1e-6);
  });

  it('projects a disc to its chord lengths', () => {
    const disc = [{ intensity: 2, a: 0.5, b: 0.5, x0: 0.2, y0: 0, phi: 0 }];
    const w = 101;
    const p = phantomProjection(0, { width: w, ellipses: disc, center: 50 });
    // radius 0.5 × 50.5 px, centered at x = 0.2 × 50.5 px right of the axis.
    const r = 0.5 * 50.5;
    for (const u of [50, 60, 70]) {
      const d = u - 50 - 0.2 * 50.5;
      assert.ok(Math.abs(p[u]! - 2 * 2 * Math.sqrt(Math.max(0, r * r - d * d))) < 1e-3, `u ${u}`);
    }
    // At 90° the disc's center projects onto the axis.
    const q = phantomProjection(Math.PI / 2, { width: w, ellipses: disc, center: 50 });
    assert.ok(Math.abs(q[50]! - 4 * r) < 1e-3);
  });

  it('conserves mass at every angle and mirrors at θ + π', () => {
    const n = 128;
    const image = sheppLogan(n, n, { supersample: 4 });
    const mass = image.reduce((a, b) => a + b, 0);
    const angles = [0, 0.3, 1.1, Math.PI / 2, 2.5];
    const sino = phantomSinogram(angles, { width: n, supersample: 4 });
    for (let i = 0; i < angles.length; i++) {
      const sum = sino.subarray(i * n, (i + 1) * n).reduce((a, b) => a + b, 0);
      assert.ok(Math.abs(sum - mass) / mass < 2e-3, `angle ${angles[i]}: ${sum} vs ${mass}`);
    }
    const a = phantomProjection(0.7, { width: n });
    const b = phantomProjection(0.7 + Math.PI, { width: n });
    for (let u = 0; u < n; u++) assert.ok(Math.abs(a[u]! - b[n - 1 - u]!) < 1e-3);
  });
});
