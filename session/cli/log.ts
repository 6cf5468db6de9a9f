/**
 * `concert log [NAME] [--follow]`: prints `concert.log`, or only the entries of session NAME
 * (lines are written as `<time> <LEVEL> <session>:<source>: <message>`, traces indented below).
 * @module
 */
import { closeSync, existsSync, openSync, readSync, statSync, watchFile, unwatchFile } from 'node:fs';
import { checkName, exists, listSessions, logPath, SessionError, shippedSessions } from '../store.js';

function noSuchSession(name: string): SessionError {
  const known = [...new Set([...listSessions(), ...shippedSessions()])].sort();
  return new SessionError(
    `there is no session called '${name}' and the log has no line of it (sessions: ${known.join(', ') || 'none'})`,
  );
}

/** Keeps the lines of `text` that belong to session `name` (an entry's trace lines follow it). */
export function filterLog(text: string, name: string | undefined, state = { keep: true }): string {
  if (name === undefined) return text;
  const entry = /^\d{4}-\d\d-\d\dT[\d:.]+Z \w+\s+(\S+?):/;
  const out: string[] = [];
  const lines = text.split(/(?<=\n)/);
  for (const line of lines) {
    const m = entry.exec(line);
    if (m) state.keep = m[1] === name || m[1]!.startsWith(`${name}:`) || m[1]!.startsWith(`${name}/`);
    if (state.keep) out.push(line);
  }
  return out.join('');
}

function readFrom(path: string, start: number): { text: string; end: number } {
  const size = statSync(path).size;
  if (size <= start) return { text: '', end: size };
  const fd = openSync(path, 'r');
  try {
    const buffer = Buffer.alloc(size - start);
    readSync(fd, buffer, 0, buffer.length, start);
    return { text: buffer.toString('utf8'), end: size };
  } finally {
    closeSync(fd);
  }
}

/** Prints the log; with `follow`, keeps printing new lines until interrupted. */
export async function log(name: string | undefined, options: { follow?: boolean } = {}): Promise<void> {
  const n = name === undefined ? undefined : checkName(name);
  const path = logPath();
  // A name that is no session and has no line in the log is a mistake: say so, exit 1.
  const known = () => n === undefined || exists(n) || shippedSessions().includes(n);
  if (!existsSync(path) && !options.follow) {
    if (!known()) throw noSuchSession(n!);
    process.stderr.write(`(no log yet: ${path})\n`);
    return;
  }
  if (!options.follow && !known() && filterLog(readFrom(path, 0).text, n) === '') throw noSuchSession(n!);
  const state = { keep: n === undefined };
  let position = 0;
  const pump = () => {
    if (!existsSync(path)) return;
    const { text, end } = readFrom(path, position);
    if (end < position) position = 0; // truncated
    position = end;
    if (text) process.stdout.write(filterLog(text, n, state));
  };
  pump();
  if (!options.follow) return;
  await new Promise<void>((resolve) => {
    watchFile(path, { interval: 200 }, pump);
    const stop = () => {
      unwatchFile(path, pump);
      resolve();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}
