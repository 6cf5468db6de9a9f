/**
 * Addons: the base class and errors. Implementations: `concert/addons/local`, `concert/addons/remote`.
 * @module
 */
export * from './base.js';
export * from './errors.js';
