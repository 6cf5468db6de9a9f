/**
 * Online tomographic reconstruction: flat-field correction, ramp filtering and parallel-beam
 * backprojection that runs while projections arrive, on worker threads with a WebAssembly SIMD
 * kernel; a Shepp-Logan phantom with exact projections for testing; a rotation-axis search.
 *
 * The entry point is {@link Reconstructor}; the kernels are exported for benchmarks and for
 * addons that manage their own buffers.
 * @example
 * ```ts
 * import { Reconstructor } from 'concert/reco';
 * const reco = await Reconstructor.create({ width: 2048, height: 2048, number: 1500, region: [1000, 1100, 10] });
 * for await (const frame of camera.stream({ count: 1500 })) await reco.addProjection(frame);
 * const slices = await reco.slices();
 * ```
 * @module
 */
export { Reconstructor } from './reconstructor.js';
export type { FindAxisOptions, ReconstructionParameters, ReconstructorOptions } from './reconstructor.js';
export { RunningAverage, correctRows, flatFieldCorrect } from './flat-field.js';
export type { CorrectionOptions } from './flat-field.js';
export { FILTER_NAMES, RowFilter, filterResponse, paddedSize } from './filter.js';
export type { FilterName, PaddingMode, RowFilterOptions } from './filter.js';
export { sliceGeometry } from './geometry.js';
export type { SliceGeometry, SliceGeometryOptions } from './geometry.js';
export { accumulate, accumulatePlain } from './backproject.js';
export { SerialBackprojector } from './serial.js';
export type { Backprojector } from './serial.js';
export { ParallelBackprojector } from './parallel.js';
export type { ParallelBackprojectorOptions } from './parallel.js';
export type { KernelName } from './batch.js';
export { wasmSimdSupported } from './wasm-kernel.js';
export { AXIS_METRICS, axisEdgeWarning, axisScore, searchAxis } from './axis.js';
export type { AxisCandidate, AxisMetric, AxisSearch } from './axis.js';
export { MODIFIED_SHEPP_LOGAN, phantomProjection, phantomSinogram, sheppLogan } from './phantom.js';
export type { Ellipse, PhantomOptions, ProjectionOptions } from './phantom.js';
