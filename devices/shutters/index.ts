/**
 * Shutter contract (abstract base); implementations in `concert/devices/shutters/dummy`, …
 * @module
 */
export * from './base.js';
