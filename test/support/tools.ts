/**
 * Test helpers for tests that need an external tool (tiffinfo, python3, h5dump, …): the test is
 * skipped with the reason and the Debian package that provides the tool, never passed silently.
 *
 * @example
 * ```ts
 * it('tiffinfo reads our file', function () {
 *   requireTool(this, 'tiffinfo', 'libtiff-tools');
 *   …
 * });
 * ```
 * @module
 */
import { spawnSync } from 'node:child_process';

const found = new Map<string, boolean>();

/** True if `command` is on the PATH (cached per command). */
export function hasTool(command: string): boolean {
  let ok = found.get(command);
  if (ok === undefined) {
    // `command -v` is a shell builtin: no dependency on `which`.
    ok = spawnSync('sh', ['-c', 'command -v "$1" >/dev/null 2>&1', 'sh', command], { stdio: 'ignore' }).status === 0;
    found.set(command, ok);
  }
  return ok;
}

/** Debian's Python, where the python3-* packages install. */
export const PYTHON = '/usr/bin/python3';

/**
 * True if Debian's Python (`/usr/bin/python3`, where the python3-* packages install; the
 * `python3` on PATH may be another one) can `import <module>` (e.g. `tifffile`, `zmq`, `tango`).
 */
export function hasPythonModule(module: string): boolean {
  const key = `python3:${module}`;
  let ok = found.get(key);
  if (ok === undefined) {
    ok = spawnSync(PYTHON, ['-c', `import ${module}`], { stdio: 'ignore' }).status === 0;
    found.set(key, ok);
  }
  return ok;
}

/** The part of mocha's context that skipping needs (works with `this` in `it`/`before`). */
export interface SkippableContext {
  skip(): void;
}

function skip(ctx: SkippableContext, reason: string): never {
  console.log(`      skipped: ${reason}`);
  ctx.skip();
  throw new Error('unreachable: ctx.skip() returned'); // mocha's skip() throws; keep `never` honest
}

/**
 * Skips the running test (or the suite, when called in `before`) unless `command` is installed,
 * printing `skipped: <command> not installed (Debian <pkg>)`. Call it with `this` from a
 * `function () {}` callback (arrow functions have no mocha context).
 */
export function requireTool(ctx: SkippableContext, command: string, debianPackage: string): void {
  if (!hasTool(command)) skip(ctx, `${command} not installed (Debian ${debianPackage})`);
}

/** Like {@link requireTool} for a Python module: `skipped: python3 module tifffile not installed (Debian python3-tifffile)`. */
export function requirePythonModule(ctx: SkippableContext, module: string, debianPackage: string): void {
  if (!hasPythonModule(module)) skip(ctx, `${PYTHON} has no module ${module} (Debian ${debianPackage})`);
}

/** Skips unless the environment variable is set (opt-in system tests): `skipped: set CONCERT_TANGO=1 to run`. */
export function requireEnv(ctx: SkippableContext, variable: string, hint = `set ${variable}=1 to run`): string {
  const value = process.env[variable];
  if (!value) skip(ctx, hint);
  return value;
}
