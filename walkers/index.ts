/**
 * Walkers (where data goes) and the file formats they write.
 * @module
 */
export * from './base.js';
export * from './directory.js';
export * from './dummy.js';
export * from './formats/index.js';
export * from './remote.js';
