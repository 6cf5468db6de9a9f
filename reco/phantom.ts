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
  const ellipses = options.ellipses ?? MODIFIED_SHEPP_LOGAN;
  // Per sub-sample row, each ellipse covers one interval of x: add its intensity there.
  const out = new Float32Array(width * height);
  const sums = new Float64Array(width * k);
  for (let r = 0; r < height; r++) {
    const row = new Float64Array(width);
    for (let sy = 0; sy < k; sy++) {
      sums.fill(0);
      const y = (cy - (r + (sy + 0.5) / k - 0.5)) / scale;
      for (const e of ellipses) {
        const [x1, x2] = chord(e, y);
        if (!(x2 >= x1)) continue;
        // Sub-sample column j sits at x = (j / k + (0.5 / k) − 0.5 − cx) / scale.
        const j1 = Math.max(0, Math.ceil((x1 * scale + cx + 0.5 - 0.5 / k) * k));
        const j2 = Math.min(width * k - 1, Math.floor((x2 * scale + cx + 0.5 - 0.5 / k) * k));
        for (let j = j1; j <= j2; j++) sums[j]! += e.intensity;
      }
      for (let j = 0; j < width * k; j++) row[Math.floor(j / k)]! += sums[j]!;
    }
    for (let c = 0; c < width; c++) out[r * width + c] = row[c]! / (k * k);
  }
  return out;
}

/** The x interval (phantom units) where the horizontal line at `y` is inside `e` (NaNs if none). */
function chord(e: Ellipse, y: number): [number, number] {
  const phi = (e.phi * Math.PI) / 180;
  const cos = Math.cos(phi);
  const sin = Math.sin(phi);
  const dy = y - e.y0;
  // Inside: ((dx cos + dy sin) / a)² + ((−dx sin + dy cos) / b)² ≤ 1, a quadratic in dx.
  const A = (cos / e.a) ** 2 + (sin / e.b) ** 2;
  const B = 2 * dy * sin * cos * (1 / (e.a * e.a) - 1 / (e.b * e.b));
  const C = ((dy * sin) / e.a) ** 2 + ((dy * cos) / e.b) ** 2 - 1;
  const disc = B * B - 4 * A * C;
  if (disc < 0) return [NaN, NaN];
  const root = Math.sqrt(disc);
  return [e.x0 + (-B - root) / (2 * A), e.x0 + (-B + root) / (2 * A)];
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
export function phantomProjection(
  angle: number,
  options: ProjectionOptions,
  out = new Float32Array(options.width),
): Float32Array {
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
  for (let i = 0; i < angles.length; i++)
    phantomProjection(angles[i]!, options, out.subarray(i * options.width, (i + 1) * options.width));
  return out;
}
