/**
 * A WebAssembly SIMD kernel for the commonest contrast mapping: uint16 pixels under an integer
 * window to 8-bit grey or video-range luma, 16 pixels per step, in a (shared) memory the caller
 * gives. The module's bytes are emitted here (no assembler at build time).
 *
 * Integer arithmetic, exact by construction: with `a = clamp(v − min, 0, R)` (R = max − min), the
 * grey value `round(255 a / R)` is `floor((510 a + R) / 2R)`, estimated in f32 from slightly above
 * (so it is exact or one too high) and corrected once with the integer remainder; the luma
 * `round(16 + 219 g / 255)` is `16 + floor((219 g + 127) / 255)`, in 16-bit lanes. Even so, a window is to be
 * used only after {@link GreyWasm.matches} found the kernel equal to the lookup table
 * (`grey-kernel.ts`) on all 65536 input values.
 * @module
 * @internal
 */
import { leb as uleb, section, simd, sleb, str as name } from '../core/wasm-asm.js';
import { mapPixels, widen, type GreyRange } from './grey-kernel.js';

/** The largest window width the integer formulas hold for (510 R + R < 2³¹). */
const MAX_RANGE = 4_000_000;

// Opcodes (https://webassembly.github.io/spec/core/binary/instructions.html).
const LOCAL_GET = 0x20;
const LOCAL_SET = 0x21;
const LOCAL_TEE = 0x22;
const I32_CONST = 0x41;
const V = {
  load: 0x00,
  store: 0x0b,
  i16x8Splat: 0x10,
  i32x4Splat: 0x11,
  f32x4Splat: 0x13,
  i8x16NarrowI16x8U: 0x66,
  i16x8NarrowI32x4U: 0x86,
  i32x4LtS: 0x39,
  i16x8Add: 0x8e,
  i16x8ShrU: 0x8d,
  i16x8SubSatU: 0x93,
  i16x8Mul: 0x95,
  i16x8MinU: 0x97,
  i32x4ExtendLowI16x8U: 0xa9,
  i32x4ExtendHighI16x8U: 0xaa,
  i32x4Add: 0xae,
  i32x4Sub: 0xb1,
  i32x4Mul: 0xb5,
  i32x4MinS: 0xb6,
  i32x4MaxS: 0xb8,
  f32x4Mul: 0xe6,
  i32x4TruncSatF32x4S: 0xf8,
  f32x4ConvertI32x4S: 0xfa,
};

const vector = (items: number[][]) => [...uleb(items.length), ...items.flat()];

/** f32 multiplier for `floor(x / d)`: 1/d rounded up a little, so the estimate is never low. */
export function reciprocal(d: number): number {
  return Math.fround((1 / d) * (1 + 2 ** -20));
}

// Parameters: src, dst, n (a multiple of 16), min, R (i32), c = reciprocal(2R) (f32).
const [SRC, DST, N, MIN, R, C] = [0, 1, 2, 3, 4, 5];
// Locals: end (i32), then v128s.
const [END, LO, HI, VMIN, VR, V2R, V510, VC, ZERO, T, Q, V219, V127, V1, V16, VMIN16, VR16, A16] = [
  6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23,
];

/** `q = trunc(t · c)`, then `q − 1` where `t − q · d < 0` (t on the stack; leaves q). */
function divide(c: number, d: number): number[] {
  return [
    LOCAL_TEE, T,
    ...simd(V.f32x4ConvertI32x4S), LOCAL_GET, c, ...simd(V.f32x4Mul), ...simd(V.i32x4TruncSatF32x4S),
    LOCAL_SET, Q,
    LOCAL_GET, Q,
    LOCAL_GET, T, LOCAL_GET, Q, LOCAL_GET, d, ...simd(V.i32x4Mul), ...simd(V.i32x4Sub),
    LOCAL_GET, ZERO, ...simd(V.i32x4LtS), ...simd(V.i32x4Add),
  ]; // prettier-ignore
}

/**
 * Four pixels (`extend` of the v128 in `from`) to grey, as i32x4; `clamped`: `from` holds `a`
 * already (clamped in 16-bit lanes).
 */
function quarter(from: number, extend: number, clamped: boolean): number[] {
  const clamp = clamped
    ? []
    : [
        LOCAL_GET,
        VMIN,
        ...simd(V.i32x4Sub),
        LOCAL_GET,
        ZERO,
        ...simd(V.i32x4MaxS),
        LOCAL_GET,
        VR,
        ...simd(V.i32x4MinS),
      ];
  return [
    LOCAL_GET, from, ...simd(extend), ...clamp,
    LOCAL_GET, V510, ...simd(V.i32x4Mul), LOCAL_GET, VR, ...simd(V.i32x4Add),
    ...divide(VC, V2R),
  ]; // prettier-ignore
}

/**
 * Eight pixels (`from`, low or high half) to grey as i16x8 and, for video, on to luma:
 * `16 + floor(x / 255)` with `x = 219 g + 127 < 2¹⁶`, where `floor(x / 255) = (x + (x >> 8) + 1) >> 8`.
 */
function half(from: number, video: boolean, narrow: boolean): number[] {
  // With min and R in 0 … 65535, `a = min(v ⊖ min, R)` (saturating) in 16-bit lanes: 8 at a time.
  const clamp = narrow
    ? [
        LOCAL_GET,
        from,
        LOCAL_GET,
        VMIN16,
        ...simd(V.i16x8SubSatU),
        LOCAL_GET,
        VR16,
        ...simd(V.i16x8MinU),
        LOCAL_SET,
        A16,
      ]
    : [];
  const a = narrow ? A16 : from;
  const grey = [
    ...clamp,
    ...quarter(a, V.i32x4ExtendLowI16x8U, narrow),
    ...quarter(a, V.i32x4ExtendHighI16x8U, narrow),
    ...simd(V.i16x8NarrowI32x4U),
  ];
  if (!video) return grey;
  return [
    ...grey, LOCAL_GET, V219, ...simd(V.i16x8Mul), LOCAL_GET, V127, ...simd(V.i16x8Add), LOCAL_TEE, T,
    LOCAL_GET, T, I32_CONST, 8, ...simd(V.i16x8ShrU), ...simd(V.i16x8Add), LOCAL_GET, V1, ...simd(V.i16x8Add),
    I32_CONST, 8, ...simd(V.i16x8ShrU), LOCAL_GET, V16, ...simd(V.i16x8Add),
  ]; // prettier-ignore
}

function body(video: boolean, narrow: boolean): number[] {
  const splat = (push: number[], local: number, op = V.i32x4Splat) => [...push, ...simd(op), LOCAL_SET, local];
  const code = [
    LOCAL_GET, SRC, LOCAL_GET, N, I32_CONST, 1, 0x74 /* i32.shl */, 0x6a /* i32.add */, LOCAL_SET, END,
    ...splat([LOCAL_GET, MIN], VMIN),
    ...splat([LOCAL_GET, R], VR),
    ...splat([LOCAL_GET, R, I32_CONST, 1, 0x74], V2R),
    ...splat([I32_CONST, ...sleb(510)], V510),
    ...splat([LOCAL_GET, C], VC, V.f32x4Splat),
    ...splat([I32_CONST, 0], ZERO),
    ...splat([I32_CONST, ...sleb(219)], V219, V.i16x8Splat),
    ...splat([I32_CONST, ...sleb(127)], V127, V.i16x8Splat),
    ...splat([I32_CONST, 1], V1, V.i16x8Splat),
    ...splat([I32_CONST, 16], V16, V.i16x8Splat),
    ...splat([LOCAL_GET, MIN], VMIN16, V.i16x8Splat),
    ...splat([LOCAL_GET, R], VR16, V.i16x8Splat),
    0x02, 0x40, // block
    0x03, 0x40, // loop
    LOCAL_GET, SRC, LOCAL_GET, END, 0x4f /* i32.ge_u */, 0x0d, 1, // br_if out
    LOCAL_GET, SRC, ...simd(V.load), 0, 0, LOCAL_SET, LO,
    LOCAL_GET, SRC, ...simd(V.load), 0, 16, LOCAL_SET, HI,
    LOCAL_GET, DST,
    ...half(LO, video, narrow),
    ...half(HI, video, narrow),
    ...simd(V.i8x16NarrowI16x8U),
    ...simd(V.store), 0, 0,
    LOCAL_GET, SRC, I32_CONST, 32, 0x6a, LOCAL_SET, SRC,
    LOCAL_GET, DST, I32_CONST, 16, 0x6a, LOCAL_SET, DST,
    0x0c, 0, // br loop
    0x0b, 0x0b, 0x0b, // end loop, block, function
  ]; // prettier-ignore
  const locals = [
    [1, 0x7f],
    [17, 0x7b],
  ];
  const fn = [...vector(locals), ...code];
  return [...uleb(fn.length), ...fn];
}

/**
 * The module: imports `env.memory` (shared), exports `full` and `video` (src, dst, n, min, R, c),
 * and `full16`/`video16`, the same for `0 ≤ min ≤ 65535` and `R ≤ 65535` (clamped in 16-bit lanes).
 */
export function greyWasmBytes(): Uint8Array<ArrayBuffer> {
  const i32 = 0x7f;
  const type = [0x60, ...vector([[i32], [i32], [i32], [i32], [i32], [0x7d]]), 0];
  const memory = [...name('env'), ...name('memory'), 0x02, 0x03, ...uleb(1), ...uleb(65536)];
  const exports = [
    [...name('full'), 0x00, 0],
    [...name('video'), 0x00, 1],
    [...name('full16'), 0x00, 2],
    [...name('video16'), 0x00, 3],
  ];
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vector([type])),
    ...section(2, vector([memory])),
    ...section(3, vector([[0], [0], [0], [0]])),
    ...section(7, vector(exports)),
    ...section(10, [...uleb(4), ...body(false, false), ...body(true, false), ...body(false, true), ...body(true, true)]),
  ]); // prettier-ignore
}

type Kernel = (src: number, dst: number, n: number, min: number, range: number, c: number) => void;

let compiled: WebAssembly.Module | null | undefined;

/** The compiled module, or null where WebAssembly SIMD or shared memory is missing. */
function module(): WebAssembly.Module | null {
  if (compiled === undefined) {
    try {
      compiled = new WebAssembly.Module(greyWasmBytes());
    } catch {
      compiled = null;
    }
  }
  return compiled;
}

/** Whether the integer formulas hold for `[min, max]` (an integer window, R < 4·10⁶). */
function integerWindow(min: number, max: number): boolean {
  return Number.isInteger(min) && Number.isInteger(max) && Math.abs(min) <= 2 ** 30 && max - min <= MAX_RANGE;
}

/**
 * The kernel on one shared memory (the module imports it). Check a window with
 * {@link GreyWasm.matches} before mapping with it.
 */
export class GreyWasm {
  readonly memory: WebAssembly.Memory;
  readonly #kernels: Record<GreyRange | 'full16' | 'video16', Kernel>;

  private constructor(memory: WebAssembly.Memory, kernels: Record<GreyRange | 'full16' | 'video16', Kernel>) {
    this.memory = memory;
    this.#kernels = kernels;
  }

  /** The kernel on `memory` (shared), or undefined where WebAssembly SIMD is not available. */
  static create(memory: WebAssembly.Memory): GreyWasm | undefined {
    const compiledModule = module();
    if (!compiledModule) return undefined;
    try {
      const { exports } = new WebAssembly.Instance(compiledModule, { env: { memory } });
      const [full, video, full16, video16] = ['full', 'video', 'full16', 'video16'].map((k) => exports[k] as Kernel);
      return new GreyWasm(memory, { full: full!, video: video!, full16: full16!, video16: video16! });
    } catch {
      return undefined;
    }
  }

  static #checker: GreyWasm | null | undefined;

  /**
   * True if the kernel maps every uint16 value under `window` to what `table` (the lookup table of
   * the window and range, `lookupTable('uint16', …)`) holds; false for a non-integer window, or
   * where WebAssembly SIMD is missing. Runs on a memory of its own (3 pages).
   */
  static matches(table: Uint8Array, window: readonly [number, number], range: GreyRange): boolean {
    const [min, max] = widen(window);
    if (!integerWindow(min, max) || table.length !== 65536) return false;
    if (GreyWasm.#checker === undefined)
      GreyWasm.#checker = GreyWasm.create(new WebAssembly.Memory({ initial: 3, maximum: 3, shared: true })) ?? null;
    const checker = GreyWasm.#checker;
    if (!checker) return false;
    const buffer = checker.memory.buffer;
    const values = new Uint16Array(buffer, 0, 65536);
    for (let v = 0; v < 65536; v++) values[v] = v;
    const out = new Uint8Array(buffer, 65536 * 2, 65536);
    out.fill(0);
    checker.#run(0, 65536 * 2, 65536, min, max, range);
    for (let v = 0; v < 65536; v++) if (out[v] !== table[v]) return false;
    return true;
  }

  /**
   * Maps `n` uint16 pixels at byte `src` of the memory to `n` bytes at `dst` under `window` (one
   * {@link matches} found exact; the last `n % 16` pixels by the lookup table).
   * @throws RangeError for a window the kernel does not take (not integer, too wide).
   */
  map(src: number, dst: number, n: number, window: readonly [number, number], range: GreyRange): void {
    const [min, max] = widen(window);
    if (!integerWindow(min, max)) throw new RangeError(`GreyWasm.map: [${min}, ${max}] is not an integer window`);
    const whole = n - (n % 16);
    this.#run(src, dst, whole, min, max, range);
    if (whole < n) {
      const buffer = this.memory.buffer;
      const rest = new Uint16Array(buffer, src + whole * 2, n - whole);
      mapPixels(rest, 'uint16', [min, max], new Uint8Array(buffer, dst + whole, n - whole), {}, range);
    }
  }

  /** The kernel for the window: clamping in 16-bit lanes where min and R fit them. */
  #run(src: number, dst: number, n: number, min: number, max: number, range: GreyRange): void {
    const narrow = min >= 0 && min <= 65535 && max - min <= 65535;
    const kernel = this.#kernels[narrow ? (range === 'video' ? 'video16' : 'full16') : range];
    kernel(src, dst, n, min, max - min, reciprocal(2 * (max - min)));
  }
}
