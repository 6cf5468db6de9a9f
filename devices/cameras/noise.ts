/**
 * Random numbers for simulated cameras: Poisson counts (normal approximation for large means).
 * @module
 * @internal
 */

/** Fills `out` with Poisson samples of mean `background[i] + signal`, clipped to `max`. */
export function poissonFill(out: Uint16Array, background: ArrayLike<number>, signal: number, max = 65535): void {
  let spare: number | undefined;
  const gauss = (): number => {
    if (spare !== undefined) {
      const s = spare;
      spare = undefined;
      return s;
    }
    let u = 0;
    while (u === 0) u = Math.random();
    const v = Math.random();
    const r = Math.sqrt(-2 * Math.log(u));
    spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  };
  for (let i = 0; i < out.length; i++) {
    const mean = background[i]! + signal;
    let x: number;
    if (mean < 30) {
      // Knuth's method for small means.
      const l = Math.exp(-mean);
      let k = 0;
      let p = Math.random();
      while (p > l) {
        k++;
        p *= Math.random();
      }
      x = k;
    } else {
      x = Math.round(mean + Math.sqrt(mean) * gauss());
    }
    out[i] = x < 0 ? 0 : x > max ? max : x;
  }
}
