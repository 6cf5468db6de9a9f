/**
 * Imaging experiments: frame helpers, tomography arithmetic, and the source-independent bases
 * {@link Radiography}, {@link SteppedTomography}, {@link ContinuousTomography} and the
 * grating-interferometry stepping. A base exposes the sample through two hooks,
 * `startSampleExposure`/`stopSampleExposure`; `experiments/synchrotron.ts` (a shutter) and
 * `experiments/xraytube.ts` (a tube switched on and off) implement them.
 *
 * Frames carry what writers need in their metadata: `image_key` (0 projection, 1 flat, 2 dark, as
 * NXtomo) and, for tomography, `angle` in degrees.
 * @module
 */
export * from './imaging/frames.js';
export * from './imaging/radiography.js';
export * from './imaging/tomography.js';
export * from './imaging/spiral.js';
export * from './imaging/grating.js';
