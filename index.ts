/**
 * Concert: `import { q, Device, … } from 'concert'`.
 * @module
 */
export * from './core/index.js';
export * as devices from './devices/index.js';
