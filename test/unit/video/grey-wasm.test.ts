import assert from 'node:assert/strict';
import { lookupTable, mapPixels, type GreyRange } from '../../../video/grey-kernel.js';
import { greyWasmBytes, GreyWasm } from '../../../video/grey-wasm.js';

const RANGES: GreyRange[] = ['full', 'video'];
const ALL = Uint16Array.from({ length: 65536 }, (_, v) => v);

/** A shared memory of `pages` 64 KiB pages and the kernel on it. */
function kernelOn(pages: number): GreyWasm {
  const kernel = GreyWasm.create(new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true }));
  assert.ok(kernel, 'WebAssembly SIMD is available in Node 20');
  return kernel;
}

/** The kernel's image of `values` under `window` (values at byte 0, image after them). */
function wasmImage(kernel: GreyWasm, values: Uint16Array, window: [number, number], range: GreyRange): Uint8Array {
  const buffer = kernel.memory.buffer;
  new Uint16Array(buffer, 0, values.length).set(values);
  const dst = values.length * 2 + 5; // an odd offset: stores need no alignment
  const image = new Uint8Array(buffer, dst, values.length);
  image.fill(1);
  kernel.map(0, dst, values.length, window, range);
  return image.slice();
}

/** The lookup table kernel's image (the reference). */
function lutImage(values: Uint16Array, window: [number, number], range: GreyRange): Uint8Array {
  const out = new Uint8Array(values.length);
  mapPixels(values, 'uint16', window, out, {}, range);
  return out;
}

describe('video/grey-wasm', () => {
  it('emits a module WebAssembly validates, exporting the kernels (16: clamping in 16-bit lanes)', () => {
    const bytes = greyWasmBytes();
    assert.ok(WebAssembly.validate(bytes));
    const exports = WebAssembly.Module.exports(new WebAssembly.Module(bytes)).map((e) => e.name);
    assert.deepEqual(exports.sort(), ['full', 'full16', 'video', 'video16']);
  });

  it('equals the lookup-table kernel on all 65536 uint16 values, in both ranges', () => {
    const kernel = kernelOn(4);
    const windows: Array<[number, number]> = [
      [0, 65535],
      [100, 4000],
      [0, 1],
      [5, 5], // zero width: widened to [5, 6]
      [1000, 1002],
      [0, 510],
      [-300, 70000],
      [7, 300000],
      [65535, 65535],
      [40000, 20000], // max below min: widened, as the table does
    ];
    // and integer windows at random (a fixed seed: the same ones every run)
    let seed = 12345;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let k = 0; k < 20; k++) {
      const min = Math.floor(next() * 70000) - 2000;
      windows.push([min, min + 1 + Math.floor(next() ** 3 * 80000)]);
    }
    for (const window of windows)
      for (const range of RANGES) {
        const expected = lutImage(ALL, window, range);
        assert.deepEqual(wasmImage(kernel, ALL, window, range), expected, `[${window.join(', ')}] ${range}`);
        assert.ok(GreyWasm.matches(lookupTable('uint16', window, {}, range)!, window, range));
      }
  });

  it('maps a frame whose pixel count is not a multiple of 16 (the tail by the table)', () => {
    const kernel = kernelOn(8);
    const values = Uint16Array.from({ length: 333 * 101 }, (_, i) => (i * 37 + (i >> 5) * 11) & 0xffff);
    for (const range of RANGES)
      assert.deepEqual(wasmImage(kernel, values, [300, 50000], range), lutImage(values, [300, 50000], range));
  });

  it('declines non-integer windows and tables that differ', () => {
    const window: [number, number] = [0.5, 3000.25];
    assert.equal(GreyWasm.matches(lookupTable('uint16', window, {}, 'full')!, window, 'full'), false);
    assert.throws(() => kernelOn(4).map(0, 1024, 16, window, 'full'), /not an integer window/);
    const table = lookupTable('uint16', [0, 4000], {}, 'video')!.slice();
    assert.ok(GreyWasm.matches(table, [0, 4000], 'video'));
    table[1234] ^= 1;
    assert.equal(GreyWasm.matches(table, [0, 4000], 'video'), false, 'one value off is found');
    assert.equal(GreyWasm.matches(table.subarray(0, 256), [0, 4000], 'video'), false, 'not a uint16 table');
  });
});
