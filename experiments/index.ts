/**
 * Experiments, acquisitions and the consumers their frames go to.
 * @module
 */
export * from './acquisition.js';
export * from './addon.js';
export * from './consumer.js';
export * from './errors.js';
export * from './experiment.js';
export * from './estimate.js';
export type { EstimateErrors, RunActuals } from './estimate-walk.js';
export * from './flag.js';
export * from './gate.js';
export * from './suspender.js';
export type { Checkpoint, PausePoint, PauseHooks } from './pause.js';
export * from './imaging.js';
export * as synchrotron from './synchrotron.js';
export * as xraytube from './xraytube.js';
export * from './remote.js';
export * from './dummy.js';
export * from './director.js';
