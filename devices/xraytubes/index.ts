/**
 * X-ray tube contract (abstract base); implementations in `concert/devices/xraytubes/dummy`.
 * @module
 */
export * from './base.js';
