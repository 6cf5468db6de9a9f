/**
 * The core of Concert: quantities, parameters, devices, state machines, errors, cancellation,
 * frames and producers.
 * @module
 */
export * from './errors.js';
export * from './quantity.js';
export * from './parameter.js';
export * from './quantity-parameter.js';
export * from './selection.js';
export * from './state.js';
export * from './options.js';
export * from './device.js';
export * from './fsm.js';
export * from './registry.js';
export * from './abort.js';
export * from './timers.js';
export * from './clock.js';
export * from './log.js';
export * from './mutex.js';
export * from './frame.js';
export * from './producer.js';
export * from './progress.js';
export { threadCpuMs, threadCpuIsPerThread } from './thread-cpu.js';
export * from './process.js';
