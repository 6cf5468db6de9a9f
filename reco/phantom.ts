/**
 * The modified Shepp-Logan head phantom (Toft, as in MATLAB's `phantom('Modified Shepp-Logan')`
 * and scikit-image's `shepp_logan_phantom`) and its exact parallel-beam projections: line
 * integrals of ellipses, so reconstructions can be checked against ground truth.
 *
 * Geometry (shared with {@link backproject}): a point at `(x, y)` pixels from the rotation axis
 * (x right, y up) lands at detector coordinate `t = x cos θ + y sin θ` pixels from the axis.
 * The phantom's unit square `[−1, 1]²` spans `size` pixels.
 * @module
 */

/** One ellipse: intensity, semi-axes `a`, `b`, center `x0`, `y0` (phantom units), rotation in degrees. */
export interface Ellipse {
  readonly intensity: number;
  readonly a: number;
  readonly b: number;
  readonly x0: number;
  readonly y0: number;
  readonly phi: number;
}

/** The ten ellipses of the modified Shepp-Logan phantom (values 0…1). */
export const MODIFIED_SHEPP_LOGAN: readonly Ellipse[] = (
  [
    [1, 0.69, 0.92, 0, 0, 0],
    [-0.8, 0.6624, 0.874, 0, -0.0184, 0],
    [-0.2, 0.11, 0.31, 0.22, 0, -18],
    [-0.2, 0.16, 0.41, -0.22, 0, 18],
    [0.1, 0.21, 0.25, 0, 0.35, 0],
    [0.1, 0.046, 0.046, 0, 0.1, 0],
    [0.1, 0.046, 0.046, 0, -0.1, 0],
    [0.1, 0.046, 0.023, -0.08, -0.605, 0],
    [0.1, 0.023, 0.023, 0, -0.606, 0],
    [0.1, 0.023, 0.046, 0.06, -0.605, 0],
  ] as const
).map(([intensity, a, b, x0, y0, phi]) => ({ intensity, a, b, x0, y0, phi }));

/** Options of {@link sheppLogan}. */
export interface PhantomOptions {
  /** Pixels spanned by the phantom's unit square `[−1, 1]`; default the image width. */
  scale?: number;
  /** Column of the phantom's center; default `(width − 1) / 2`. */
  centerX?: number;
  /** Row of the phantom's center; default `(height − 1) / 2`. */
  centerY?: number;
  /** Average `k × k` point samples per pixel (area sampling); default 1 (pixel centers). */
  supersample?: number;
  ellipses?: readonly Ellipse[];
}

/**
 * Renders the phantom into a `height × width` float32 image (row 0 at the top).
 * @example
 * ```ts
 * const image = sheppLogan(256, 256, { supersample: 4 });
 * ```
 */
export function sheppLogan(width: number, height = width, options: PhantomOptions = {}): Float32Array {
  const scale = (options.scale ?? width) / 2;
  const cx = options.centerX ?? (width - 1) / 2;
  const cy = options.centerY ?? (height - 1) / 2;
  const k = options.supersample ?? 1;
  const ellipses = (options.ellipses ?? MODIFIED_SHEPP_LOGAN).map((e) => {
    const phi = (e.phi * Math.PI) / 180;
    return { ...e, cos: Math.cos(phi), sin: Math.sin(phi) };
  });
  const out = new Float32Array(width * height);
  for (let r = 0; r < height; r++) {
    for (let c = 0; c < width; c++) {
      let sum = 0;
      for (let sy = 0; sy < k; sy++) {
        const y = (cy - (r + (sy + 0.5) / k - 0.5)) / scale;
        for (let sx = 0; sx < k; sx++) {
          const x = (c + (sx + 0.5) / k - 0.5 - cx) / scale;
          for (const e of ellipses) {
            const dx = x - e.x0;
            const dy = y - e.y0;
            const u = (dx * e.cos + dy * e.sin) / e.a;
            const v = (-dx * e.sin + dy * e.cos) / e.b;
            if (u * u + v * v <= 1) sum += e.intensity;
          }
        }
      }
      out[r * width + c] = sum / (k * k);
    }
  }
  return out;
}

/** Options of {@link phantomProjection} and {@link phantomSinogram}. */
export interface ProjectionOptions {
  /** Detector width in pixels. */
  width: number;
  /** Pixels spanned by the phantom's unit square; default `width`. */
  scale?: number;
  /** Detector column (may be fractional) where the rotation axis projects; default `(width − 1) / 2`. */
  center?: number;
  /** Average `k` point samples across each detector pixel; default 1 (pixel centers). */
  supersample?: number;
  ellipses?: readonly Ellipse[];
}

/**
 * Exact line integrals (in pixel units of length) of the phantom at one angle (radians):
 * detector column `u` integrates along the line `x cos θ + y sin θ = u − center`.
 */
export function phantomProjection(angle: number, options: ProjectionOptions, out = new Float32Array(options.width)): Float32Array {
  const { width } = options;
  const scale = (options.scale ?? width) / 2;
  const center = options.center ?? (width - 1) / 2;
  const k = options.supersample ?? 1;
  const ellipses = options.ellipses ?? MODIFIED_SHEPP_LOGAN;
  const cos = Math.cos(angle);
  const sin = Math.sin(angle);
  const terms = ellipses.map((e) => {
    const d = angle - (e.phi * Math.PI) / 180;
    const a2 = e.a * e.a * Math.cos(d) ** 2 + e.b * e.b * Math.sin(d) ** 2;
    return { a2, shift: e.x0 * cos + e.y0 * sin, factor: (2 * e.intensity * e.a * e.b) / a2 };
  });
  for (let u = 0; u < width; u++) {
    let sum = 0;
    for (let j = 0; j < k; j++) {
      const t = (u + (j + 0.5) / k - 0.5 - center) / scale;
      for (const e of terms) {
        const s = t - e.shift;
        const rest = e.a2 - s * s;
        if (rest > 0) sum += e.factor * Math.sqrt(rest);
      }
    }
    out[u] = (sum / k) * scale;
  }
  return out;
}

/** Projections at every angle in `angles` (radians), row-major `[angles.length × width]`. */
export function phantomSinogram(angles: ArrayLike<number>, options: ProjectionOptions): Float32Array {
  const out = new Float32Array(angles.length * options.width);
  for (let i = 0; i < angles.length; i++) phantomProjection(angles[i]!, options, out.subarray(i * options.width, (i + 1) * options.width));
  return out;
}
