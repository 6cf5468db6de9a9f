/**
 * A WebAssembly SIMD backprojection kernel, assembled at load time from the instruction list
 * below (no binary file, no tool chain). It adds `K` (1, 4 or 8) padded filtered rows into a run of
 * slice pixels, four pixels per step: positions `t = t₀ + c·dt` in f32x4, `i = ⌊t⌋` by a float
 * rounding trick (no saturating conversion), then each lane's pair `(p[i], p[i+1] − p[i])` (rows
 * are stored as value/slope pairs, see `putRow`) is fetched by one 64-bit lane load, the pairs
 * are de-interleaved with two shuffles and interpolated (`p + f·slope`). The slice is loaded and
 * stored once per `K` projections.
 *
 * Exports `bp1(dst, groups, row, t, dt)`, `bp4(dst, groups, row0…row3, t0…t3, dt0…dt3)` and
 * `bp8` (eight of each):
 * `dst` and `row*` are byte addresses in the imported shared memory `env.memory`, `groups` the
 * number of 4-pixel groups (≥ 1), `t*` the padded-row position of the run's first pixel, `dt*`
 * the position step per pixel.
 * @module
 * @internal
 */

import { F32, I32, V128, get, leb, section, set, simd, sleb, str, tee } from '../core/wasm-asm.js';

const f32Bytes = (values: number[]): number[] => [...new Uint8Array(Float32Array.from(values).buffer)];
/** i8x16.shuffle picking f32 lanes (0–3 from a, 4–7 from b). */
const shuffle32 = (lanes: number[]): number[] =>
  simd(0x0d, ...lanes.flatMap((l) => [4 * l, 4 * l + 1, 4 * l + 2, 4 * l + 3]));

const op = {
  v128Load: simd(0x00, 4, 0),
  v128Store: simd(0x0b, 4, 0),
  i32x4Splat: simd(0x11),
  f32x4Splat: simd(0x13),
  extract: (lane: number) => simd(0x1b, lane),
  load64Zero: simd(0x5d, 3, 0),
  load64Lane1: simd(0x57, 3, 0, 1),
  i32Const: (n: number) => [0x41, ...sleb(n)],
  i32Sub: [0x6b],
  i32x4Shl: simd(0xab),
  i32x4Add: simd(0xae),
  f32x4Add: simd(0xe4),
  f32x4Sub: simd(0xe5),
  f32x4Mul: simd(0xe6),
};

/**
 * Float to integer without `i32x4.trunc_sat_f32x4_s` (seven x64 instructions): for t ≥ 1,
 * `v = t + (2²³ − ½)` rounds to `2²³ + i` with `i = ⌊t⌋`, or `⌊t⌋ − 1` when t is a whole number
 * (then the fraction below is 1 and the interpolation gives the same value). `v`'s bits are
 * `0x4B000000 + i`; `v − 2²³` is `i` as a float.
 */
const ROUND_BIAS = 8388607.5;
const TWO_23 = 8388608;
/** `0x4B000000 × 8` modulo 2³²: taken off the row address once, so `(bits(v) << 3) + row′` is the byte address of pair `i`. */
const BIAS_BYTES = (0x4b000000 * 8) % 2 ** 32;

/**
 * What a generated function computes: the kernel, or for the benchmark's cost breakdown only the
 * index arithmetic (`'index'`: positions, fractions and pair addresses, summed so they stay live) or
 * the index arithmetic and the four 64-bit lane loads (`'gather'`: the pairs summed, no interpolation).
 * @internal
 */
export type KernelVariant = 'kernel' | 'gather' | 'index';

/** Body of the function for `k` rows. Params: dst, groups, rows[k], t[k], dt[k]. */
function body(k: number, variant: KernelVariant): number[] {
  const pDst = 0,
    pGroups = 1,
    pRow = 2,
    pT = 2 + k,
    pDt = 2 + 2 * k;
  let next = 2 + 3 * k;
  const lEnd = next++; // i32
  const firstV = next;
  const vC = next++,
    vFour = next++,
    vBias = next++,
    vTwo23 = next++,
    vT = next++,
    vI = next++,
    vF = next++,
    vAB = next++,
    vCD = next++,
    vAcc = next++;
  const vTS = Array.from({ length: k }, () => next++);
  const vDC = Array.from({ length: k }, () => next++);
  const vRow = Array.from({ length: k }, () => next++);
  const locals = [...leb(2), 1, I32, ...leb(next - firstV), V128];
  const code: number[] = [];
  const emit = (...parts: number[][]): void => {
    for (const p of parts) code.push(...p);
  };
  emit([0xfd, ...leb(0x0c), ...f32Bytes([0, 1, 2, 3])], set(vC));
  emit([0xfd, ...leb(0x0c), ...f32Bytes([4, 4, 4, 4])], set(vFour));
  emit([0xfd, ...leb(0x0c), ...f32Bytes([ROUND_BIAS, ROUND_BIAS, ROUND_BIAS, ROUND_BIAS])], set(vBias));
  emit([0xfd, ...leb(0x0c), ...f32Bytes([TWO_23, TWO_23, TWO_23, TWO_23])], set(vTwo23));
  for (let j = 0; j < k; j++) {
    emit(get(pT + j), op.f32x4Splat, set(vTS[j]!));
    emit(get(pDt + j), op.f32x4Splat, set(vDC[j]!));
    emit(get(pRow + j), op.i32Const(BIAS_BYTES | 0), op.i32Sub, op.i32x4Splat, set(vRow[j]!));
  }
  // end = dst + groups * 16
  emit(get(pDst), get(pGroups), [0x41, 4, 0x74, 0x6a], set(lEnd));
  emit([0x03, 0x40]); // loop
  emit(get(pDst), op.v128Load, set(vAcc));
  for (let j = 0; j < k; j++) {
    // t = TS + c * DC; v = t + bias (bits 0x4B000000 + i); f = t - (v - 2^23); address = (bits << 2) + row'
    emit(get(vTS[j]!), get(vC), get(vDC[j]!), op.f32x4Mul, op.f32x4Add, tee(vT));
    emit(get(vBias), op.f32x4Add, tee(vI), get(vTwo23), op.f32x4Sub, set(vF));
    emit(get(vT), get(vF), op.f32x4Sub, set(vF));
    emit(get(vI), [0x41, 3], op.i32x4Shl, get(vRow[j]!), op.i32x4Add, set(vI));
    if (variant === 'index') {
      emit(get(vAcc), get(vI), op.f32x4Add, get(vF), op.f32x4Add, set(vAcc));
      continue;
    }
    emit(get(vI), op.extract(0), op.load64Zero, set(vAB));
    emit(get(vI), op.extract(1), get(vAB), op.load64Lane1, set(vAB));
    emit(get(vI), op.extract(2), op.load64Zero, set(vCD));
    emit(get(vI), op.extract(3), get(vCD), op.load64Lane1, set(vCD));
    if (variant === 'gather') {
      emit(get(vAcc), get(vAB), op.f32x4Add, get(vCD), op.f32x4Add, set(vAcc));
      continue;
    }
    // pairs (value, slope): p = [pa pb pc pd], d = [da db dc dd]; acc += p + f * d
    emit(get(vAB), get(vCD), shuffle32([0, 2, 4, 6]));
    emit(get(vF), get(vAB), get(vCD), shuffle32([1, 3, 5, 7]), op.f32x4Mul, op.f32x4Add);
    emit(get(vAcc), op.f32x4Add, set(vAcc));
  }
  emit(get(pDst), get(vAcc), op.v128Store);
  emit(get(vC), get(vFour), op.f32x4Add, set(vC));
  emit(get(pDst), [0x41, 16, 0x6a], tee(pDst), get(lEnd), [0x49], [0x0d, 0]); // br_if 0 (dst < end)
  emit([0x0b]); // end loop
  emit([0x0b]); // end function
  const fn = [...locals, ...code];
  return [...leb(fn.length), ...fn];
}

/** Angles per slice visit of the exported functions `bp1`, `bp4`, `bp8`. */
const KS = [1, 4, 8];

/** The module's bytes for a shared memory of `pages` 64 KiB pages (`variant` for the benchmark only). */
export function kernelModuleBytes(pages: number, variant: KernelVariant = 'kernel'): Uint8Array<ArrayBuffer> {
  const ks = KS;
  const types = ks.map((k) => [0x60, ...leb(2 + 3 * k), I32, I32, ...Array(k).fill(I32), ...Array(2 * k).fill(F32), 0]);
  const bytes = [
    0x00,
    0x61,
    0x73,
    0x6d,
    0x01,
    0x00,
    0x00,
    0x00,
    ...section(1, [...leb(types.length), ...types.flat()]),
    ...section(2, [1, ...str('env'), ...str('memory'), 0x02, 0x03, ...leb(pages), ...leb(pages)]),
    ...section(3, [...leb(ks.length), ...ks.map((_, i) => i)]),
    ...section(7, [...leb(ks.length), ...ks.flatMap((k, i) => [...str(`bp${k}`), 0x00, i])]),
    ...section(10, [...leb(ks.length), ...ks.flatMap((k) => body(k, variant))]),
  ];
  return Uint8Array.from(bytes);
}

/** The kernel's exports. */
export interface WasmKernel {
  bp1(dst: number, groups: number, row: number, t: number, dt: number): void;
  bp4(
    dst: number,
    groups: number,
    r0: number,
    r1: number,
    r2: number,
    r3: number,
    t0: number,
    t1: number,
    t2: number,
    t3: number,
    d0: number,
    d1: number,
    d2: number,
    d3: number,
  ): void;
  /** Eight rows: `(dst, groups, row0…row7, t0…t7, dt0…dt7)`. */
  bp8(dst: number, groups: number, ...rowsPositionsSteps: number[]): void;
}

/** True if this runtime runs WebAssembly SIMD (and shared memory). */
export function wasmSimdSupported(): boolean {
  try {
    return typeof SharedArrayBuffer === 'function' && WebAssembly.validate(kernelModuleBytes(1));
  } catch {
    return false;
  }
}

/** A shared memory of at least `bytes` bytes, for {@link instantiateKernel}. */
export function sharedMemory(bytes: number): WebAssembly.Memory {
  const pages = Math.max(1, Math.ceil(bytes / 65536));
  return new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true });
}

/** Instantiates the kernel on `memory` (synchronous; the module is a few hundred bytes). */
export function instantiateKernel(memory: WebAssembly.Memory, variant: KernelVariant = 'kernel'): WasmKernel {
  const pages = memory.buffer.byteLength / 65536;
  const module = new WebAssembly.Module(kernelModuleBytes(pages, variant));
  const instance = new WebAssembly.Instance(module, { env: { memory } });
  return instance.exports as unknown as WasmKernel;
}
