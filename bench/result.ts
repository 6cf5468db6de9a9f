/**
 * What an in-process benchmark module (`bench/*.bench.ts`) returns, and small timing helpers.
 * A module exports `run(): Promise<BenchResult[]>`; `npm run bench` prints every result with its
 * ratio to the baseline measured in the same run.
 * @module
 */

/** One measurement and the baseline it is compared with (same unit, same run). */
export interface BenchResult {
  /** What was measured, e.g. `parameter get (soft)`. */
  name: string;
  value: number;
  /** e.g. `µs/op`, `frames/s`. */
  unit: string;
  /** The same quantity for the baseline (e.g. a bare async call); ratio = value / baseline. */
  baseline?: number;
  /** What the baseline is, e.g. `bare async call`, `PyTango`, `Python Concert`. */
  baselineName?: string;
  /**
   * What the row must reach: the ratio (value / baseline) or the value itself, at least or at most
   * the given figure. `npm run bench -- --check` compares rows with their goals.
   */
  goal?: BenchGoal;
  /** Why the reference is missing from this run (not installed, …): printed instead of a ratio. */
  missing?: string;
}

/** A goal of a row: `{ of: 'ratio', atLeast: 0.95 }`, `{ of: 'value', atMost: 2 }`. */
export interface BenchGoal {
  of: 'ratio' | 'value';
  atLeast?: number;
  atMost?: number;
}

/** True, false, or undefined when the row cannot be judged (no baseline for a ratio goal). */
export function goalMet(row: BenchResult): boolean | undefined {
  const { goal } = row;
  if (!goal) return undefined;
  let x: number;
  if (goal.of === 'ratio') {
    if (!row.baseline) return undefined;
    x = row.value / row.baseline;
  } else x = row.value;
  if (!Number.isFinite(x)) return false;
  return (goal.atLeast === undefined || x >= goal.atLeast) && (goal.atMost === undefined || x <= goal.atMost);
}

/** The goal as text: `ratio ≥ 0.95`, `≤ 2 µs/op`. */
export function goalText(row: BenchResult): string {
  const { goal } = row;
  if (!goal) return '';
  const what = goal.of === 'ratio' ? 'ratio ' : '';
  const unit = goal.of === 'value' ? ` ${row.unit}` : '×';
  const parts: string[] = [];
  if (goal.atLeast !== undefined) parts.push(`${what}≥ ${goal.atLeast}${unit}`);
  if (goal.atMost !== undefined) parts.push(`${what}≤ ${goal.atMost}${unit}`);
  return parts.join(', ');
}

/**
 * Prints one row for `npm run bench` to collect from a standalone script
 * (`BENCH_RESULT {json}` on stdout).
 */
export function printResult(result: BenchResult): void {
  console.log(`BENCH_RESULT ${JSON.stringify(result)}`);
}

/**
 * Times `op` (awaited `n` times per batch) for about `ms` milliseconds after a warm-up and
 * returns microseconds per call: the median of `rounds` rounds.
 */
export async function microsPerOp(
  op: (i: number) => Promise<unknown> | unknown,
  { ms = 300, rounds = 3, batch = 1000 } = {},
): Promise<number> {
  for (let i = 0; i < batch; i++) await op(i); // warm-up
  const results: number[] = [];
  for (let r = 0; r < rounds; r++) {
    let n = 0;
    const t0 = performance.now();
    let t = t0;
    while (t - t0 < ms) {
      for (let i = 0; i < batch; i++) await op(n + i);
      n += batch;
      t = performance.now();
    }
    results.push(((t - t0) * 1000) / n);
  }
  return median(results);
}

/** Counts items per second from an async iterable factory, for about `ms` milliseconds; median of `rounds`. */
export async function itemsPerSecond(
  source: (signal: AbortSignal) => AsyncIterable<unknown>,
  { ms = 500, rounds = 3 } = {},
): Promise<number> {
  const results: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const controller = new AbortController();
    let n = 0;
    const t0 = performance.now();
    for await (const _ of source(controller.signal)) {
      n++;
      if ((n & 63) === 0 && performance.now() - t0 >= ms) break;
    }
    const t = performance.now();
    controller.abort();
    results.push((n / (t - t0)) * 1000);
  }
  return median(results);
}

export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/**
 * Robust means of paired measurements (ours and the reference taken back to back, round after
 * round, on a noisy machine): the geometric means of both after dropping the pairs with the
 * highest and the lowest ratio (when there are at least 5), so `value / baseline` is the trimmed
 * geometric mean of the paired ratios.
 */
export function pairedMeans(
  ours: readonly number[],
  reference: readonly number[],
): { value: number; baseline: number } {
  const n = Math.min(ours.length, reference.length);
  let pairs = Array.from({ length: n }, (_, i) => [ours[i]!, reference[i]!] as const).filter(
    ([o, r]) => o > 0 && r > 0,
  );
  if (pairs.length >= 5) pairs = [...pairs].sort((a, b) => a[0] / a[1] - b[0] / b[1]).slice(1, -1);
  const geo = (xs: number[]) => Math.exp(xs.reduce((sum, x) => sum + Math.log(x), 0) / xs.length);
  return { value: geo(pairs.map((p) => p[0])), baseline: geo(pairs.map((p) => p[1])) };
}
