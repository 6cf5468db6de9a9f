/**
 * `concert edit NAME`: opens the session in `$EDITOR` (`$VISUAL`, else `vi`), creating it first.
 * @module
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { checkName, sessionPath, writeSession } from '../store.js';
import { template } from './init.js';

/** Edits session `name`; returns the editor's exit status. */
export async function edit(name: string): Promise<number> {
  const n = checkName(name);
  const path = sessionPath(n);
  if (!existsSync(path)) writeSession(n, template(n));
  const editor = process.env.VISUAL || process.env.EDITOR || 'vi';
  // Through the shell, so that EDITOR may carry arguments ("code --wait").
  const result = spawnSync('/bin/sh', ['-c', `${editor} "$1"`, 'concert-edit', path], { stdio: 'inherit' });
  if (result.error) throw result.error;
  return result.status ?? 1;
}
