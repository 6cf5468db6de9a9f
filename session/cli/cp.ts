/**
 * `concert cp SOURCE TARGET`: copies a session (a shipped one, like `demo`, too).
 * @module
 */
import { copyFileSync, existsSync } from 'node:fs';
import { checkName, ensureSessionDir, findSession, sessionPath, SessionError } from '../store.js';

/** Copies session `source` to `target`. */
export async function cp(source: string, target: string): Promise<void> {
  const b = checkName(target);
  const { path } = findSession(source);
  if (existsSync(sessionPath(b)))
    throw new SessionError(`session '${b}' already exists; remove it first with \`concert rm ${b}\``);
  ensureSessionDir();
  copyFileSync(path, sessionPath(b));
  process.stdout.write(`Copied ${checkName(source)} to ${b}\n`);
}
