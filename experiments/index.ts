/**
 * Experiments, acquisitions and the consumers their frames go to.
 * @module
 */
export * from './acquisition.js';
export * from './consumer.js';
export * from './errors.js';
export * from './experiment.js';
export * from './flag.js';
export * from './gate.js';
