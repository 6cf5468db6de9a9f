/**
 * `concert mv SOURCE TARGET`: renames a session (and its history).
 * @module
 */
import { existsSync, renameSync } from 'node:fs';
import { checkName, concertProcessAlive, historyPath, lockPath, sessionPath, SessionError } from '../store.js';
import { readFileSync } from 'node:fs';

/** Refuses to touch (move, remove, overwrite) a session that a live `concert` process is running. */
export function checkNotRunning(name: string): void {
  const lock = lockPath(name);
  if (!existsSync(lock)) return;
  let pid: number;
  try {
    pid = Number.parseInt(readFileSync(lock, 'utf8'), 10);
  } catch {
    return; // released meanwhile
  }
  if (concertProcessAlive(pid)) throw new SessionError(`session '${name}' is running (pid ${pid}); quit it first`);
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
