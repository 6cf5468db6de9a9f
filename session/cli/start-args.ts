/**
 * A fast path for `concert start …`: its arguments parsed with node's `parseArgs`, so a start does
 * not load commander and build every subcommand's help (≈ 15–25 ms of CPU at each start). Only
 * argument lists it fully understands are taken; anything else (help, a bad or unknown option, a
 * second name) goes to commander, which gives its usual messages. The options and defaults are
 * those of the `start` command in main.ts (a test compares the two).
 * @module
 */
import { parseArgs } from 'node:util';
import type { StartCliOptions } from './main.js';

const LOGTO = ['stderr', 'file'] as const;
const LOGLEVEL = ['debug', 'info', 'warn', 'error'] as const;

function oneOf<T extends string>(choices: readonly T[], value: string | undefined, fallback: T): T | undefined {
  if (value === undefined) return fallback;
  return (choices as readonly string[]).includes(value) ? (value as T) : undefined;
}

/**
 * `argv` (without `node` and the script) as the session name and options of `concert start`, or
 * undefined when it is not a `start` command line this parser takes (commander parses it then).
 */
export function parseStartArgs(argv: readonly string[]): { name?: string; options: StartCliOptions } | undefined {
  if (argv[0] !== 'start' || argv.includes('--')) return undefined;
  let parsed;
  try {
    parsed = parseArgs({
      args: argv.slice(1),
      allowPositionals: true,
      strict: true,
      options: {
        filename: { type: 'string' },
        'non-interactive': { type: 'boolean' },
        'dry-run': { type: 'boolean' },
        logto: { type: 'string' },
        logfile: { type: 'string' },
        loglevel: { type: 'string' },
        'no-progress': { type: 'boolean' },
      },
    });
  } catch {
    return undefined;
  }
  const { values, positionals } = parsed;
  if (positionals.length > 1 || positionals.some((p) => p.startsWith('-'))) return undefined;
  // A value that looks like an option (`--logfile --dry-run`): left to commander's reading.
  for (const key of ['filename', 'logfile', 'logto', 'loglevel'] as const)
    if (values[key]?.startsWith('-')) return undefined;
  const logto = oneOf(LOGTO, values.logto, 'file');
  const loglevel = oneOf(LOGLEVEL, values.loglevel, 'info');
  if (!logto || !loglevel) return undefined;
  const options: StartCliOptions = { logto, loglevel, progress: !values['no-progress'] };
  if (values.filename !== undefined) options.filename = values.filename;
  if (values['non-interactive']) options.nonInteractive = true;
  if (values['dry-run']) options.dryRun = true;
  if (values.logfile !== undefined) options.logfile = values.logfile;
  return { name: positionals[0], options };
}
