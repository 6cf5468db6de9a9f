/**
 * Addons that consume frames in the session's process.
 * @module
 */
export * from './accumulator.js';
export * from './benchmarker.js';
export * from './function-addon.js';
export * from './image-writer.js';
export * from './live-view.js';
export * from './web-viewer/index.js';
export * from './phase-grating.js';
export * from './online-reconstruction.js';
export * from './movie-writer.js';
export * from './recorder.js';
