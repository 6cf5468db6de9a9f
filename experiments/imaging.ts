/**
 * Imaging experiments: frame helpers, tomography arithmetic, and the source-independent bases
 * {@link Radiography}, {@link SteppedTomography}, {@link ContinuousTomography} and the
 * grating-interferometry stepping. Each takes an `exposure` part that exposes the sample:
 * `shutterExposure(shutter)` or `tubeExposure(xrayTube)`; `synchrotron.*` and `xraytube.*` are
 * thin factories taking the `shutter` or the `xrayTube` directly.
 *
 * Frames carry what writers need in their metadata: `image_key` (0 projection, 1 flat, 2 dark, as
 * NXtomo) and, for tomography, `angle` in degrees.
 * @module
 */
export * from './imaging/exposure.js';
export * from './imaging/frames.js';
export * from './imaging/radiography.js';
export * from './imaging/tomography.js';
export * from './imaging/spiral.js';
export * from './imaging/grating.js';
