/**
 * Errors of the conductor: a configuration with problems (all of them listed), a camera that
 * refuses a setting or cannot be reached.
 * @module
 */
import { ConcertError } from '../core/index.js';
import type { Violation } from './config/schema.js';

/** A configuration with problems; `violations` lists every one of them. */
export class ConfigError extends ConcertError {
  override name = 'ConfigError';
  constructor(
    /** The file (or what the configuration came from). */
    readonly source: string,
    readonly violations: readonly Violation[],
    options?: ErrorOptions,
  ) {
    super(formatViolations(source, violations), options);
  }
}

/** `conductor.toml: 2 problems:\n  cameras.top.frameRate: 120 is above the maximum 90\n  …`. */
export function formatViolations(source: string, violations: readonly Violation[]): string {
  if (violations.length === 1 && !violations[0]!.path) return `${source}: ${violations[0]!.message}`;
  const lines = violations.map((v) => `  ${v.path ? `${v.path}: ` : ''}${v.message}`);
  const count = violations.length === 1 ? '1 problem' : `${violations.length} problems`;
  return `${source}: ${count} (nothing was started):\n${lines.join('\n')}`;
}

/** Something a conductor asked of its cameras failed; `cameras` maps each failed camera to its error. */
export class ConductorError extends ConcertError {
  override name = 'ConductorError';
  constructor(
    message: string,
    readonly cameras: ReadonlyMap<string, string> = new Map(),
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}
