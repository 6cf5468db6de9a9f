/** Worker module of bench/streaming.ts: `spinMs` of CPU work per item, then the item back. */
export default function spin(input: { i: number; spinMs: number }): number {
  const end = performance.now() + input.spinMs;
  let x = 0;
  while (performance.now() < end) x += Math.sqrt(x + input.i);
  return x > -1 ? input.i : -1;
}
