/**
 * The page formula of the web viewer's display bytes, one place for the JavaScript path
 * (display.ts) and the check of the SIMD kernel that must give the same bytes (display-wasm.ts).
 * @module
 * @internal
 */

/**
 * The display byte of value `v` under limits starting at `lo` with scale `sc` = 255 / (hi − lo):
 * `clamp(floor((v − lo) · sc + 0.5), 0, 255)`.
 */
export function displayIndex(v: number, lo: number, sc: number): number {
  const t = (v - lo) * sc + 0.5;
  return t <= 0 ? 0 : t >= 255 ? 255 : t | 0;
}
