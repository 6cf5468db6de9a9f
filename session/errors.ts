/**
 * How errors look to a person: Concert errors as `Sorry, <message>`, others as a short message
 * with the location in session or REPL code. Full traces go to the log, not the screen.
 * @module
 */
import { fileURLToPath } from 'node:url';
import { ConcertError, isAbortError } from '../core/errors.js';
import { errorMessage } from '../core/index.js';
import { brokenImportCause } from './loader/load-error.js';

/** True if `error` is one of Concert's own errors (also from another copy of the module). */
export function isConcertError(error: unknown): error is Error {
  if (error instanceof ConcertError) return true;
  // Walk the prototype chain by name: a second copy of core (another loader) is still ours.
  for (let p = error; p && typeof p === 'object'; p = Object.getPrototypeOf(p)) {
    if ((p as { constructor?: { name?: string } }).constructor?.name === 'ConcertError') return true;
  }
  return false;
}

/** A `file:line:column` location. */
export interface Location {
  file: string;
  line: number;
  column: number;
}

const frame = /\(?((?:file:\/\/)?\/[^():\s]+|REPL\d*|<repl>):(\d+):(\d+)\)?\s*$/;

/**
 * The first stack frame of `error` that lies in one of `files` (paths, or `REPL…` for the prompt);
 * with no `files`, the first frame outside node's internals and node_modules.
 */
export function locate(error: unknown, files?: readonly string[]): Location | undefined {
  const stack =
    error instanceof Error || (typeof error === 'object' && error !== null && 'stack' in error)
      ? String((error as Error).stack ?? '')
      : '';
  for (const line of stack.split('\n').slice(1)) {
    const m = frame.exec(line.trim());
    if (!m) continue;
    let file = m[1]!;
    if (file.startsWith('file://')) file = fileURLToPath(file);
    const inRepl = /^REPL\d*$/.test(file);
    if (
      files
        ? files.includes(file) || (inRepl && files.includes('REPL'))
        : !file.includes('/node_modules/') && !file.startsWith('node:')
    ) {
      return { file, line: Number(m[2]), column: Number(m[3]) };
    }
  }
  return undefined;
}

/** Formats `file:line:column`, with `<prompt>` for REPL input. */
export function formatLocation(loc: Location): string {
  return `${/^REPL\d*$/.test(loc.file) ? '<prompt>' : loc.file}:${loc.line}:${loc.column}`;
}

/**
 * One or two lines describing `error` for the screen.
 * @param files where to look for the location of a non-Concert error (session file, `REPL`).
 */
export function describeError(error: unknown, files?: readonly string[]): string {
  if (isConcertError(error)) return `Sorry, ${error.message}`;
  if (isAbortError(error)) return `Cancelled: ${errorMessage(error)}`;
  // a module imported names from a package file that does not compile: that file's own error
  const broken = brokenImportCause(error);
  if (broken) return `SyntaxError: ${broken} (a file of the package that does not compile)`;
  if (error instanceof Error || (typeof error === 'object' && error !== null && 'message' in error)) {
    const e = error as Error;
    const loc = locate(e, files) ?? (files ? locate(e) : undefined);
    const name = e.name && e.name !== 'Error' ? `${e.name}: ` : 'Error: ';
    return `${name}${e.message}${loc ? ` (at ${formatLocation(loc)})` : ''}`;
  }
  return `Error: ${String(error)}`;
}

/** Prints an error of a CLI subcommand to stderr. */
export function printCliError(error: unknown): void {
  process.stderr.write(`${describeError(error)}\n`);
}
