/**
 * The web viewer's display mapping of uint16 frames in WebAssembly SIMD, for 1 × 1 and 2 × 2
 * binning: block sums by pairwise widening adds, then the module's formula of display.ts,
 * `index = clamp(floor((mean − lo) · sc + 0.5), 0, 255)`, in f64x2 lanes (the same IEEE operations
 * in the same order as the JavaScript, so the same bytes), clamped by saturating narrowing; 16
 * display bytes per step, no table. {@link wasmDisplay} checks the kernel against the JavaScript
 * formula when it is made and answers undefined if they differ anywhere (or SIMD is missing):
 * the viewer then keeps its JavaScript path.
 *
 * Exports `map1(src, n, out, lo, sc)` (n pixels, a multiple of 16) and
 * `map2(src, w, oh, ow, out, lo, sc)` (source rows of w pixels, oh × ow blocks, ow a multiple
 * of 16); addresses are bytes in the module's own exported memory.
 * @module
 * @internal
 */
import {
  F64,
  I32,
  V128,
  f64x2Const,
  get,
  i32Const,
  moduleBytes,
  set,
  shuffle,
  simd,
  tee,
  type WasmFunction,
} from '../../../core/wasm-asm.js';
import { displayIndex } from './display-index.js';

const op = {
  load: (offset: number) => simd(0x00, 4, offset),
  store: simd(0x0b, 4, 0),
  f64x2Splat: simd(0x14),
  extaddPairwiseU16: simd(0x7f),
  extendLowU16: simd(0xa9),
  extendHighU16: simd(0xaa),
  i32x4Add: simd(0xae),
  f64x2Add: simd(0xf0),
  f64x2Sub: simd(0xf1),
  f64x2Mul: simd(0xf2),
  truncSatZero: simd(0xfc),
  convertLow: simd(0xfe),
  narrowI32S: simd(0x85),
  narrowI16U: simd(0x66),
  i32Add: [0x6a],
  i32Shl: [0x74],
  i32LtS: [0x48],
  i32GtS: [0x4a],
  select: [0x1b],
  /** `i32.load16_u` (2-byte aligned) at `offset` past the address on the stack. */
  load16: (offset: number) => [0x2f, 0x01, offset],
  /** `i32.store` (4-byte aligned) at `offset` past the address on the stack. */
  store32: (offset: number) => [0x36, 0x02, offset],
  i32LtU: [0x49],
  i32GeU: [0x4f],
  brIf: (depth: number) => [0x0d, depth],
  br: (depth: number) => [0x0c, depth],
  block: [0x02, 0x40],
  loop: [0x03, 0x40],
  end: [0x0b],
};
const HIGH_TO_LOW = shuffle([8, 9, 10, 11, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15]);
const LOW_PAIRS = shuffle([0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23]);

/**
 * Four display bytes as i32 lanes from the four i32 sums in local `s`: the formula on the low two
 * lanes, then on the high two, joined. `norm` (a v128 local) multiplies the sums first, if given.
 */
function four(s: number, norm: number | undefined, lo: number, sc: number, half: number): number[] {
  const formula = (...sums: number[][]) => [
    ...sums.flat(),
    ...op.convertLow,
    ...(norm === undefined ? [] : [...get(norm), ...op.f64x2Mul]),
    ...get(lo),
    ...op.f64x2Sub,
    ...get(sc),
    ...op.f64x2Mul,
    ...get(half),
    ...op.f64x2Add,
    ...op.truncSatZero,
  ];
  return [...formula(get(s)), ...formula(get(s), get(s), HIGH_TO_LOW), ...LOW_PAIRS];
}

/** Sixteen display bytes (address already on the stack) from four groups of sums, stored. */
function sixteen(sums: (k: number) => number[], s: number, ...constants: [number | undefined, number, number, number]) {
  const q = (k: number) => [...sums(k), ...set(s), ...four(s, ...constants)];
  return [...q(0), ...q(1), ...op.narrowI32S, ...q(2), ...q(3), ...op.narrowI32S, ...op.narrowI16U, ...op.store];
}

/** The formula's constants as f64x2 locals: `lo` and `sc` (parameters) splatted, and ½. */
function constants(lo: number, sc: number, vLo: number, vSc: number, vHalf: number): number[] {
  return [
    ...[...get(lo), ...op.f64x2Splat, ...set(vLo)],
    ...[...get(sc), ...op.f64x2Splat, ...set(vSc)],
    ...[...f64x2Const(0.5, 0.5), ...set(vHalf)],
  ];
}

/** `local += by`. */
const advance = (local: number, by: number): number[] => [...get(local), ...i32Const(by), ...op.i32Add, ...set(local)];

/** `out += 16`, then loop again (`br_if 0`) while `out < end`. */
const nextSixteen = (out: number, end: number): number[] => [
  ...[...get(out), ...i32Const(16), ...op.i32Add, ...tee(out)],
  ...[...get(end), ...op.i32LtU, ...op.brIf(0)],
];

function map1(): WasmFunction {
  const [src, n, out, lo, sc] = [0, 1, 2, 3, 4];
  const end = 5;
  const [vLo, vSc, vHalf, s] = [6, 7, 8, 9];
  // Group k of 4 pixels: the low or high half of the k >> 1-th 8-pixel load.
  const sums = (k: number) => [...get(src), ...op.load(16 * (k >> 1)), ...(k & 1 ? op.extendHighU16 : op.extendLowU16)];
  return {
    name: 'map1',
    params: [I32, I32, I32, F64, F64],
    locals: [
      [1, I32],
      [4, V128],
    ],
    code: [
      ...constants(lo, sc, vLo, vSc, vHalf),
      ...get(out),
      ...get(n),
      ...op.i32Add,
      ...set(end),
      ...op.loop,
      ...get(out),
      ...sixteen(sums, s, undefined, vLo, vSc, vHalf),
      ...advance(src, 32),
      ...nextSixteen(out, end),
      ...op.end,
    ],
  };
}

function map2(): WasmFunction {
  const [src, w, oh, ow, out, lo, sc] = [0, 1, 2, 3, 4, 5, 6];
  const [y, rowStart, rowI, rowJ, oEnd, rowBytes] = [7, 8, 9, 10, 11, 12];
  const [vLo, vSc, vHalf, vNorm, s] = [13, 14, 15, 16, 17];
  // Group k: 8 pixels of each of the block's two rows, summed pairwise into 4 block sums.
  const sums = (k: number) => [
    ...get(rowI),
    ...op.load(16 * k),
    ...op.extaddPairwiseU16,
    ...get(rowJ),
    ...op.load(16 * k),
    ...op.extaddPairwiseU16,
    ...op.i32x4Add,
  ];
  return {
    name: 'map2',
    params: [I32, I32, I32, I32, I32, F64, F64],
    locals: [
      [6, I32],
      [5, V128],
    ],
    code: [
      ...constants(lo, sc, vLo, vSc, vHalf),
      ...f64x2Const(0.25, 0.25),
      ...set(vNorm),
      ...get(w),
      ...get(w),
      ...op.i32Add,
      ...set(rowBytes),
      ...get(src),
      ...set(rowStart),
      ...op.block,
      ...op.loop,
      ...get(y),
      ...get(oh),
      ...op.i32GeU,
      ...op.brIf(1),
      ...get(rowStart),
      ...tee(rowI),
      ...get(rowBytes),
      ...op.i32Add,
      ...set(rowJ),
      ...get(out),
      ...get(ow),
      ...op.i32Add,
      ...set(oEnd),
      ...op.loop,
      ...get(out),
      ...sixteen(sums, s, vNorm, vLo, vSc, vHalf),
      ...advance(rowI, 64),
      ...advance(rowJ, 64),
      ...nextSixteen(out, oEnd),
      ...op.end,
      ...get(rowStart),
      ...get(rowBytes),
      ...op.i32Add,
      ...get(rowBytes),
      ...op.i32Add,
      ...set(rowStart),
      ...advance(y, 1),
      ...op.br(0),
      ...op.end,
      ...op.end,
    ],
  };
}

/**
 * The auto-contrast samples of a frame binned 2 × 2 (display.ts's `walkRows2`): in each of the
 * `oh` block rows, the sum of every `step`-th of its `ow` blocks from the first, as i32 at `out`
 * on; their minimum and maximum as two i32 at `stats`. Scalar: it reads 8 bytes of the 64 of
 * each cache line it touches, so SIMD would not read less.
 */
function sample2(): WasmFunction {
  const [src, w, oh, ow, step, out, stats] = [0, 1, 2, 3, 4, 5, 6];
  const [y, at, end, below, jump, rowStart, rowBytes, v, low, high] = [7, 8, 9, 10, 11, 12, 13, 14, 15, 16];
  // `into = v cmp into ? v : into`
  const pick = (cmp: number[], into: number) => [
    ...get(v),
    ...get(into),
    ...get(v),
    ...get(into),
    ...cmp,
    ...op.select,
    ...set(into),
  ];
  return {
    name: 'sample2',
    params: [I32, I32, I32, I32, I32, I32, I32],
    locals: [[10, I32]],
    code: [
      ...[...get(w), ...get(w), ...op.i32Add, ...set(below)], // one pixel row, bytes
      ...[...get(below), ...get(below), ...op.i32Add, ...set(rowBytes)], // one block row
      ...[...get(step), ...i32Const(2), ...op.i32Shl, ...set(jump)], // step blocks of 4 bytes
      ...[...i32Const(0x7fffffff), ...set(low), ...i32Const(-1), ...set(high)],
      ...[...get(src), ...set(rowStart)],
      ...op.block,
      ...op.loop,
      ...[...get(y), ...get(oh), ...op.i32GeU, ...op.brIf(1)],
      ...[...get(rowStart), ...tee(at), ...get(ow), ...i32Const(2), ...op.i32Shl, ...op.i32Add, ...set(end)],
      ...op.block,
      ...op.loop,
      ...[...get(at), ...get(end), ...op.i32GeU, ...op.brIf(1)],
      ...[...get(at), ...op.load16(0), ...get(at), ...op.load16(2), ...op.i32Add],
      ...[...get(at), ...get(below), ...op.i32Add, ...tee(v), ...op.load16(0), ...op.i32Add],
      ...[...get(v), ...op.load16(2), ...op.i32Add, ...set(v)],
      ...[...get(out), ...get(v), ...op.store32(0), ...advance(out, 4)],
      ...pick(op.i32LtS, low),
      ...pick(op.i32GtS, high),
      ...[...get(at), ...get(jump), ...op.i32Add, ...set(at)],
      ...op.br(0),
      ...op.end,
      ...op.end,
      ...[...get(rowStart), ...get(rowBytes), ...op.i32Add, ...set(rowStart)],
      ...advance(y, 1),
      ...op.br(0),
      ...op.end,
      ...op.end,
      ...[...get(stats), ...get(low), ...op.store32(0)],
      ...[...get(stats), ...get(high), ...op.store32(4)],
    ],
  };
}

/** The module's bytes. @internal */
export function displayModuleBytes(): Uint8Array<ArrayBuffer> {
  return moduleBytes([map1(), map2(), sample2()], { exportAs: 'memory', pages: 1 });
}

interface Exports {
  memory: WebAssembly.Memory;
  map1(src: number, n: number, out: number, lo: number, sc: number): void;
  map2(src: number, w: number, oh: number, ow: number, out: number, lo: number, sc: number): void;
  sample2(src: number, w: number, oh: number, ow: number, step: number, out: number, stats: number): void;
}

/** Maps uint16 frames to display bytes with the SIMD kernel. */
export class WasmDisplay {
  readonly #k: Exports;

  constructor(k: Exports) {
    this.#k = k;
  }

  /** Whether {@link map} takes a frame of this width and binning. */
  takes(width: number, height: number, bin: number): boolean {
    if (bin === 1) return width * height > 0 && (width * height) % 16 === 0;
    return bin === 2 && height >= 2 && Math.floor(width / 2) > 0 && Math.floor(width / 2) % 16 === 0;
  }

  /**
   * The display bytes of `src` (`height × width`, row-major) binned by `bin` (1 or 2; edge pixels
   * that fill no whole block are left out) with limits `[lo, hi]`, in `out` if given (`oh × ow`
   * bytes). Check {@link takes} first.
   */
  map(
    src: Uint16Array,
    width: number,
    height: number,
    bin: number,
    lo: number,
    hi: number,
    out?: Uint8Array,
  ): Uint8Array {
    this.load(src, width, height);
    return this.mapLoaded(width, height, bin, lo, hi, out);
  }

  /**
   * Copies `src` into the kernel's memory for {@link mapLoaded}; answers the copy (valid until the
   * next load), which is in the cache now: reading it there is faster than reading `src` again.
   */
  load(src: Uint16Array, width: number, height: number): Uint16Array {
    // the frame, the display bytes, and the samples of sample2 (at most one i32 per 4 pixels) with their range
    const need = samplesAt(width, height) + width * height + 8;
    const memory = this.#k.memory;
    if (memory.buffer.byteLength < need) memory.grow(Math.ceil((need - memory.buffer.byteLength) / 65536));
    const copy = new Uint16Array(memory.buffer, 0, width * height);
    copy.set(src.subarray(0, width * height));
    return copy;
  }

  /**
   * The auto-contrast samples of the frame last {@link load}ed, binned 2 × 2 into `oh × ow`
   * blocks: every `step`-th block sum of each block row (`ow % step === 0`), as display.ts's
   * `walkRows2` takes them, with their minimum and maximum. The sums are a view of the kernel's
   * memory, valid until the next load.
   */
  sample2(width: number, height: number, oh: number, ow: number, step: number) {
    const at = samplesAt(width, height);
    const count = (oh * ow) / step;
    this.#k.sample2(0, width, oh, ow, step, at, at + 4 * count);
    const buffer = this.#k.memory.buffer;
    const [low, high] = new Int32Array(buffer, at + 4 * count, 2);
    return { sums: new Uint32Array(buffer, at, count), low: low!, high: high! };
  }

  /** {@link map} of the frame last {@link load}ed. */
  mapLoaded(width: number, height: number, bin: number, lo: number, hi: number, out?: Uint8Array): Uint8Array {
    const sc = hi > lo ? 255 / (hi - lo) : 0;
    const oh = bin === 2 ? Math.floor(height / 2) : height;
    const ow = bin === 2 ? Math.floor(width / 2) : width;
    const outAt = outputAt(width, height);
    if (bin === 1) this.#k.map1(0, oh * ow, outAt, lo, sc);
    else this.#k.map2(0, width, oh, ow, outAt, lo, sc);
    const result = new Uint8Array(this.#k.memory.buffer, outAt, oh * ow);
    if (!out) return result.slice();
    out.set(result);
    return out;
  }

  /** Whether the kernel gives the JavaScript formula's bytes on test frames with edge values and limits. */
  agreesWithJavaScript(): boolean {
    const width = 66; // 33 blocks per row for sample2 (steps 1, 3 and 11 divide it)
    const height = 33;
    const src = new Uint16Array(width * height);
    let seed = 12345;
    for (let i = 0; i < src.length; i++) {
      seed = (seed * 1103515245 + 12345) >>> 0;
      src[i] = i % 7 === 0 ? 65535 : i % 11 === 0 ? 0 : seed >>> 16;
    }
    const limits: [number, number][] = [
      [100.3, 3000.7],
      [0, 65535],
      [40000, 40000],
      [5000, 10],
      [-70000.5, 300000.25],
      [32767.5, 32767.500000001],
      [1e-300, 2e-300],
    ];
    for (const step of [1, 3, 11]) {
      // 16 block rows of 33 blocks: every step-th block of each
      this.load(src, width, height);
      const { sums, low, high } = this.sample2(width, height, 16, 33, step);
      let k = 0;
      let min = Infinity;
      let max = -Infinity;
      for (let y = 0; y < 16; y++)
        for (let x = 0; x < 33; x += step, k++) {
          const at = 2 * y * width + 2 * x;
          const sum = src[at]! + src[at + 1]! + src[at + width]! + src[at + width + 1]!;
          if (sums[k] !== sum) return false;
          min = Math.min(min, sum);
          max = Math.max(max, sum);
        }
      if (k !== sums.length || low !== min || high !== max) return false;
    }
    for (const bin of [1, 2]) {
      // bin 1: 64 × 33 pixels, a multiple of 16; bin 2: 65 × 33, 16 × 32 blocks (an odd pixel
      // column and row left out), as map2 takes them
      const w = bin === 1 ? 64 : 65;
      if (!this.takes(w, height, bin)) return false;
      const frame = src.subarray(0, w * height);
      const oh = bin === 2 ? Math.floor(height / 2) : height;
      const ow = bin === 2 ? Math.floor(w / 2) : w;
      for (const [lo, hi] of limits) {
        const got = this.map(frame, w, height, bin, lo, hi);
        const sc = hi > lo ? 255 / (hi - lo) : 0;
        for (let y = 0; y < oh; y++)
          for (let x = 0; x < ow; x++) {
            let sum = 0;
            for (let dy = 0; dy < bin; dy++)
              for (let dx = 0; dx < bin; dx++) sum += frame[(y * bin + dy) * w + x * bin + dx]!;
            if (got[y * ow + x] !== displayIndex(Math.fround(sum / (bin * bin)), lo, sc)) return false;
          }
      }
    }
    return true;
  }
}

/** Where the output starts in the kernel's memory: after the frame, 16-byte aligned. */
const outputAt = (width: number, height: number) => Math.ceil((width * height * 2) / 16) * 16;
/** Where the samples start: after the output (at most a byte per pixel), 16-byte aligned. */
const samplesAt = (width: number, height: number) => outputAt(width, height) + Math.ceil((width * height) / 16) * 16;

let made: WasmDisplay | null | undefined;

/** The SIMD kernel, made and checked once per thread; undefined where it cannot be used. */
export function wasmDisplay(): WasmDisplay | undefined {
  if (made === undefined) {
    try {
      const instance = new WebAssembly.Instance(new WebAssembly.Module(displayModuleBytes()));
      const kernel = new WasmDisplay(instance.exports as unknown as Exports);
      made = kernel.agreesWithJavaScript() ? kernel : null;
    } catch {
      made = null;
    }
  }
  return made ?? undefined;
}
