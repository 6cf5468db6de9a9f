/**
 * Rotation-axis search: image metrics that peak at the right center, and a coarse-then-fine
 * brute-force search over candidate centers.
 * @module
 */
import { ParameterError } from '../core/errors.js';

/**
 * Score of a trial slice; higher is better.
 * - `'entropy'`: minus the Shannon entropy of the slice's histogram (a wrong center spreads
 *   values into arcs and halos, which flattens the histogram);
 * - `'gradient'`: sum of squared gradients (sharpness);
 * - `'negativity'`: minus the summed negative values (an absorbing sample has none).
 */
export type AxisMetric = 'entropy' | 'gradient' | 'negativity';

/** Every metric name. */
export const AXIS_METRICS: readonly AxisMetric[] = ['entropy', 'gradient', 'negativity'];

/** Scores `slice` (`height × width`, row-major) with `metric`; higher is better. */
export function axisScore(slice: Float32Array, width: number, height: number, metric: AxisMetric = 'entropy'): number {
  switch (metric) {
    case 'entropy':
      return -entropy(slice);
    case 'gradient': {
      let sum = 0;
      for (let r = 0; r + 1 < height; r++)
        for (let c = 0; c + 1 < width; c++) {
          const v = slice[r * width + c]!;
          const dx = slice[r * width + c + 1]! - v;
          const dy = slice[(r + 1) * width + c]! - v;
          sum += dx * dx + dy * dy;
        }
      return sum;
    }
    case 'negativity': {
      let sum = 0;
      for (const v of slice) if (v < 0) sum += v;
      return sum;
    }
    default:
      throw new ParameterError(`findAxis: unknown metric '${metric as string}', use one of ${AXIS_METRICS.join(', ')}`);
  }
}

/** Shannon entropy (bits) of a 256-bin histogram between the slice's 0.1 and 99.9 percentiles. */
function entropy(slice: Float32Array): number {
  let min = Infinity;
  let max = -Infinity;
  for (const v of slice) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  if (!(max > min)) return 0;
  // Percentiles from a fine histogram (no sort), then the entropy of a 256-bin one between them.
  const fine = new Float64Array(4096);
  const fineScale = 4095 / (max - min);
  for (const v of slice) fine[Math.floor((v - min) * fineScale)]!++;
  const edge = (fraction: number): number => {
    let acc = 0;
    for (let i = 0; i < fine.length; i++) if ((acc += fine[i]!) >= fraction * slice.length) return min + i / fineScale;
    return max;
  };
  const lo = edge(0.001);
  const hi = edge(0.999) + 1 / fineScale;
  const bins = new Float64Array(256);
  const scale = 256 / (hi - lo);
  for (const v of slice) bins[Math.min(255, Math.max(0, Math.floor((v - lo) * scale)))]!++;
  let h = 0;
  for (const b of bins)
    if (b > 0) {
      const p = b / slice.length;
      h -= p * Math.log2(p);
    }
  return h;
}

/** One evaluated candidate. */
export interface AxisCandidate {
  center: number;
  score: number;
}

/** Result of an axis search. */
export interface AxisSearch {
  /** Best center [px, detector column]. */
  center: number;
  /** Every evaluated candidate, coarse then fine. */
  candidates: AxisCandidate[];
  /**
   * True when the best coarse candidate is the first or the last of the region: the optimum may
   * lie outside it (search again over a wider region).
   */
  atEdge: boolean;
}

/** The warning for a search whose best center is at the edge of its region, if it is. */
export function axisEdgeWarning(search: AxisSearch, region: readonly [number, number, number]): string | undefined {
  if (!search.atEdge) return undefined;
  return (
    `findAxis: the best center ${search.center} px is at the edge of the candidates [${region.join(', ')}]; ` +
    'the optimum may lie outside them: search again over a wider range'
  );
}

/**
 * Evaluates `score` at `from, from + step, …, < to` and then at tenth steps within one coarse
 * step of the best candidate (repeated `levels − 1` times).
 * @throws ParameterError for an empty or unordered region.
 */
export async function searchAxis(
  region: readonly [number, number, number],
  score: (center: number) => Promise<number>,
  levels = 2,
): Promise<AxisSearch> {
  const [from, to, step] = region;
  if (!(step > 0) || !(to > from))
    throw new ParameterError(
      `findAxis: centers must be [from, to, step] with from < to and step > 0, got [${region.join(', ')}]`,
    );
  const candidates: AxisCandidate[] = [];
  const evaluate = async (centers: number[]): Promise<AxisCandidate> => {
    let best: AxisCandidate | undefined;
    for (const center of centers) {
      const c = { center, score: await score(center) };
      candidates.push(c);
      if (best === undefined || c.score > best.score) best = c;
    }
    return best!;
  };
  const coarse: number[] = [];
  for (let c = from; c < to - 1e-9; c += step) coarse.push(c);
  let best = await evaluate(coarse);
  const atEdge = coarse.length > 1 && (best.center === coarse[0] || best.center === coarse[coarse.length - 1]);
  let width = step;
  for (let level = 1; level < levels; level++) {
    const fine: number[] = [];
    const sub = width / 10;
    for (let i = -9; i <= 9; i++) if (i !== 0) fine.push(best.center + i * sub);
    const f = await evaluate(fine);
    if (f.score > best.score) best = f;
    width = sub;
  }
  return { center: best.center, candidates, atEdge };
}
