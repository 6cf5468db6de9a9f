/**
 * `concert cp SOURCE TARGET`: copies a session (a shipped one, like `demo`, too).
 * @module
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { checkName, ensureSessionDir, findSession, renameManual, sessionPath, SessionError } from '../store.js';

/** Copies session `source` to `target`. */
export async function cp(source: string, target: string): Promise<void> {
  const b = checkName(target);
  const { path } = findSession(source);
  if (existsSync(sessionPath(b)))
    throw new SessionError(`session '${b}' already exists; remove it first with \`concert rm ${b}\``);
  ensureSessionDir();
  // The copy's manual names the copy (`mine: …`, not `demo: …`), so `show` and the banner say so.
  writeFileSync(sessionPath(b), renameManual(readFileSync(path, 'utf8'), checkName(source), b));
  process.stdout.write(`Copied ${checkName(source)} to ${b}\n`);
}
