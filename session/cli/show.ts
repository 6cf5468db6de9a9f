/**
 * `concert show [NAME]`: the session's manual, or the list of sessions.
 * @module
 */
import { readFileSync } from 'node:fs';
import { findSession, listSessions, manual, shippedSessions, summary } from '../store.js';

/** Prints the manual of `name`, or every session with the first line of its manual. */
export async function show(name?: string): Promise<void> {
  if (name !== undefined) {
    const { path } = findSession(name);
    const text = manual(readFileSync(path, 'utf8'));
    process.stdout.write(`${text || `(session '${name}' has no manual: start the file with a /** … */ comment)`}\n`);
    return;
  }
  const own = listSessions();
  const lines: string[] = [];
  const summarize = (name: string) => summary(readFileSync(findSession(name).path, 'utf8'), name);
  const width = Math.max(0, ...own.map((n) => n.length), ...shippedSessions().map((n) => n.length));
  for (const n of own) lines.push(`${n.padEnd(width)}  ${summarize(n)}`.trimEnd());
  const shipped = shippedSessions().filter((n) => !own.includes(n));
  if (own.length === 0) lines.push('(no sessions yet: create one with `concert init NAME`)');
  if (shipped.length) {
    lines.push('', 'shipped with Concert:');
    for (const n of shipped) lines.push(`${n.padEnd(width)}  ${summarize(n)}`.trimEnd());
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}
