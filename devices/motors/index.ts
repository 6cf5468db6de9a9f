/**
 * Motor contracts (abstract bases). Implementations are imported by module path:
 * `concert/devices/motors/dummy`, `concert/devices/motors/tango`.
 * @module
 */
export * from './base.js';
