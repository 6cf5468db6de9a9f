/**
 * `concert rm NAME…`: removes sessions (and their history). Checks every name before removing any.
 * @module
 */
import { existsSync, rmSync } from 'node:fs';
import { checkName, historyPath, sessionPath, SessionError } from '../store.js';
import { checkNotRunning } from './mv.js';

/** Removes the sessions `names`. */
export async function rm(names: string[]): Promise<void> {
  const checked = names.map(checkName);
  const missing = checked.filter((n) => !existsSync(sessionPath(n)));
  if (missing.length)
    throw new SessionError(`there is no session called ${missing.map((n) => `'${n}'`).join(', ')}; nothing removed`);
  for (const n of checked) checkNotRunning(n);
  for (const n of checked) {
    rmSync(sessionPath(n));
    rmSync(historyPath(n), { force: true });
    process.stdout.write(`Removed ${n}\n`);
  }
}
