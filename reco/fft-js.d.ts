/**
 * Types for the `fft.js` package (radix-4 FFT by Fedor Indutny), which ships none.
 * Complex arrays are interleaved `[re0, im0, re1, im1, …]`; any indexable number array works.
 * @internal
 */
declare module 'fft.js' {
  type NumberArray = number[] | Float64Array | Float32Array;
  /** An FFT plan of one power-of-two size (≥ 4). */
  export default class FFT {
    constructor(size: number);
    readonly size: number;
    /** A plain zeroed array of `2 × size` numbers. */
    createComplexArray(): number[];
    toComplexArray(input: NumberArray, storage?: NumberArray): number[];
    fromComplexArray(complex: NumberArray, storage?: NumberArray): number[];
    /** Fills the upper half of a spectrum computed by `realTransform` (Hermitian symmetry). */
    completeSpectrum(spectrum: NumberArray): void;
    /** Forward complex transform; `out` and `data` must differ. */
    transform(out: NumberArray, data: NumberArray): void;
    /** Forward transform of real input (`size` numbers); fills the left half of `out`. */
    realTransform(out: NumberArray, data: NumberArray): void;
    /** Inverse complex transform, divided by `size`; `out` and `data` must differ. */
    inverseTransform(out: NumberArray, data: NumberArray): void;
  }
}
