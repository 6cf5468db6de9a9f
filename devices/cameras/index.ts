/**
 * Camera contracts (abstract base). Implementations are imported by module path:
 * `concert/devices/cameras/dummy`, `concert/devices/cameras/tango`, …
 * @module
 */
export * from './base.js';
export { mirrorRotate, unmirrorRotate } from './orientation.js';
