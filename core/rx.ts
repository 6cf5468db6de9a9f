/**
 * RxJS, loaded on first use: its CommonJS build is about 150 files (≈ 70 ms), which sessions
 * that never observe a parameter should not pay for at start-up.
 * @module
 * @internal
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
let loaded: typeof import('rxjs') | undefined;

/** The rxjs module. */
export function rxjs(): typeof import('rxjs') {
  return (loaded ??= require('rxjs') as typeof import('rxjs'));
}
