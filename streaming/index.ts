/**
 * Streaming processing: steps that run on items as they arrive (files a detector writes,
 * another step's results, a producer), in parallel with each other, into output sets that stay
 * `open` until a stop criterion closes them; persisted in SQLite, every item committed before it
 * is registered (in groups), so that another process reads a set while it grows and a step
 * resumes after a crash without duplicates.
 *
 * @example
 * ```ts
 * import { DirectoryWatcher, StreamingStep } from 'concert/streaming';
 * const watcher = await DirectoryWatcher.create({ directory: '/data/detector', pattern: '*.tif' });
 * const read = await StreamingStep.create({
 *   name: 'read', input: watcher, process: readFrame, set: '/data/run/read.sqlite', stop: { count: 500 },
 * });
 * const stats = await StreamingStep.create({ name: 'stats', input: read.output, process: statistics, set: '/data/run/stats.sqlite' });
 * await stats.output.closed; // after read's set closed: the close cascades
 * ```
 * @module
 */
export { StreamingError } from './errors.js';
export { DirectoryWatcher } from './directory-watcher.js';
export type { DirectoryWatcherOptions, WatchedFile } from './directory-watcher.js';
export { OutputSet } from './output-set.js';
export type { SetSummary } from './output-set.js';
export { StreamingStep } from './step.js';
export type { ItemContext, StepInputSource, StepState, StepSummary, StreamingStepOptions } from './step.js';
export type { StopCriteria } from './stop.js';
export type { CloseInfo, CloseReason, JsonValue, OutputItem, SetState } from './item.js';
export type { StepSource } from './input.js';
export { StreamingAddon } from './addon.js';
export type { StreamingAddonOptions } from './addon.js';
