/**
 * Device families. Each family exports its abstract bases here; implementations (dummy, Tango, …)
 * are imported by module path, e.g. `concert/devices/motors/dummy`.
 * @module
 */
export * as motors from './motors/index.js';
export * as cameras from './cameras/index.js';
export * as shutters from './shutters/index.js';
export * as xraytubes from './xraytubes/index.js';
