/**
 * zeromq, loaded on first use: its native addon and JavaScript cost start-up time that sessions
 * which never open a socket (the demo imports the remote walker through the walkers barrel)
 * should not pay. With core/rx.ts's rxjs, the one place that loads the package.
 * @module
 * @internal
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
let loaded: typeof import('zeromq') | undefined;

/** The zeromq module. */
export function zeromq(): typeof import('zeromq') {
  return (loaded ??= require('zeromq') as typeof import('zeromq'));
}
