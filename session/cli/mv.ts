/**
 * `concert mv SOURCE TARGET`: renames a session (and its history).
 * @module
 */
import { existsSync, renameSync } from 'node:fs';
import { checkName, historyPath, lockPath, processAlive, sessionPath, SessionError } from '../store.js';
import { readFileSync } from 'node:fs';

/** Refuses to touch a session that a live process is running. */
export function checkNotRunning(name: string): void {
  const lock = lockPath(name);
  if (!existsSync(lock)) return;
  const pid = Number.parseInt(readFileSync(lock, 'utf8'), 10);
  if (processAlive(pid)) throw new SessionError(`session '${name}' is running (pid ${pid}); quit it first`);
}

/** Renames session `source` to `target`. */
export async function mv(source: string, target: string): Promise<void> {
  const a = checkName(source);
  const b = checkName(target);
  if (!existsSync(sessionPath(a))) throw new SessionError(`there is no session called '${a}'`);
  if (existsSync(sessionPath(b)))
    throw new SessionError(`session '${b}' already exists; remove it first with \`concert rm ${b}\``);
  checkNotRunning(a);
  renameSync(sessionPath(a), sessionPath(b));
  if (existsSync(historyPath(a))) renameSync(historyPath(a), historyPath(b));
  process.stdout.write(`Renamed ${a} to ${b}\n`);
}
