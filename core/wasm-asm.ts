/**
 * The few pieces of the WebAssembly binary format our SIMD kernels are assembled from at load
 * time (no binary file, no tool chain): LEB128 numbers, names, sections, a module with its
 * functions, and the instructions by name. Each kernel checks its results against the JavaScript
 * it replaces before it is used.
 * @module
 * @internal
 */

/** Value types. */
export const I32 = 0x7f;
export const F32 = 0x7d;
export const F64 = 0x7c;
export const V128 = 0x7b;

/** Unsigned LEB128. */
export function leb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

/** Signed LEB128 (for `i32.const`). */
export function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

/** A name: its UTF-8 length, then its bytes. */
export function str(s: string): number[] {
  const bytes = [...new TextEncoder().encode(s)];
  return [...leb(bytes.length), ...bytes];
}

/** A section: id, size, body. */
export function section(id: number, body: number[]): number[] {
  return [id, ...leb(body.length), ...body];
}

/** A SIMD instruction (prefix 0xfd) with its immediates. */
export const simd = (op: number, ...imm: number[]): number[] => [0xfd, ...leb(op), ...imm];
export const get = (i: number): number[] => [0x20, ...leb(i)];
export const set = (i: number): number[] => [0x21, ...leb(i)];
export const tee = (i: number): number[] => [0x22, ...leb(i)];
export const i32Const = (n: number): number[] => [0x41, ...sleb(n)];
/** `v128.const` of two f64 lanes. */
export const f64x2Const = (a: number, b: number): number[] =>
  simd(0x0c, ...new Uint8Array(Float64Array.of(a, b).buffer));
/** `i8x16.shuffle` with the 16 byte lanes (0–15 from the first operand, 16–31 from the second). */
export const shuffle = (lanes: number[]): number[] => simd(0x0d, ...lanes);

/** A function: parameter and result types, local declarations `[count, type]`, and its code. */
export interface WasmFunction {
  name: string;
  params: number[];
  results?: number[];
  locals: [number, number][];
  code: number[];
}

/**
 * A module of `functions`, exported by name, with either its own memory (`{ export: name,
 * pages }`, exported) or an imported one (`{ import: 'env.memory', pages, shared }`).
 */
export function moduleBytes(
  functions: WasmFunction[],
  memory: { exportAs: string; pages: number } | { importShared: { pages: number } },
): Uint8Array<ArrayBuffer> {
  const types = functions.map((f) => [
    0x60,
    ...leb(f.params.length),
    ...f.params,
    ...leb(f.results?.length ?? 0),
    ...(f.results ?? []),
  ]);
  const bodies = functions.map((f) => {
    const body = [...leb(f.locals.length), ...f.locals.flatMap(([n, t]) => [...leb(n), t]), ...f.code, 0x0b];
    return [...leb(body.length), ...body];
  });
  const exports = functions.map((f, i) => [...str(f.name), 0x00, ...leb(i)]);
  const own = 'exportAs' in memory;
  if (own) exports.push([...str(memory.exportAs), 0x02, 0]);
  const bytes = [
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, [...leb(types.length), ...types.flat()]),
    ...(own
      ? []
      : section(2, [
          1,
          ...str('env'),
          ...str('memory'),
          0x02,
          0x03,
          ...leb(memory.importShared.pages),
          ...leb(memory.importShared.pages),
        ])),
    ...section(3, [...leb(functions.length), ...functions.map((_, i) => i)]),
    ...(own ? section(5, [1, 0x00, ...leb(memory.pages)]) : []),
    ...section(7, [...leb(exports.length), ...exports.flat()]),
    ...section(10, [...leb(bodies.length), ...bodies.flat()]),
  ];
  return Uint8Array.from(bytes);
}
