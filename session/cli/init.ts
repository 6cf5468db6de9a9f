/**
 * `concert init NAME [--force]`: a new session from `sessions/templates/session.ts`.
 * @module
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkName, sessionPath, SessionError, shippedDir, writeSession } from '../store.js';
import { checkNotRunning } from './mv.js';

/** The template text for a session called `name`. */
export function template(name: string): string {
  return readFileSync(join(shippedDir, 'templates', 'session.ts'), 'utf8').replaceAll('SESSION_NAME', name);
}

/** Creates session `name` from the template. */
export async function init(name: string, options: { force?: boolean } = {}): Promise<void> {
  const n = checkName(name);
  const path = sessionPath(n);
  if (existsSync(path) && !options.force)
    throw new SessionError(`session '${n}' already exists (${path}); use --force to overwrite it`);
  checkNotRunning(n);
  writeSession(n, template(n));
  process.stdout.write(`Created ${path}\n`);
}
