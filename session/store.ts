/**
 * The session store: TypeScript session files in `$XDG_DATA_HOME/concert/` (default
 * `~/.local/share/concert/`), one `concert.log` beside them, per-session history files and lock
 * files (`.NAME.history`, `.NAME.lock`).
 * @module
 */
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  writeFileSync,
  unlinkSync,
  openSync,
  closeSync,
  writeSync,
} from 'node:fs';
import { homedir } from 'node:os';
import { basename, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConcertError } from '../core/errors.js';
import { processAlive } from '../core/process.js';

/** A store operation failed (unknown session, name taken, bad name, locked session). */
export class SessionError extends ConcertError {
  override name = 'SessionError';
}

/** The directory of the shipped sessions (`sessions/` in this package). */
export const shippedDir = fileURLToPath(new URL('../sessions/', import.meta.url));

/** The session directory: `$XDG_DATA_HOME/concert`, default `~/.local/share/concert`. */
export function sessionDir(): string {
  const xdg = process.env.XDG_DATA_HOME;
  return join(xdg && xdg.length > 0 ? xdg : join(homedir(), '.local', 'share'), 'concert');
}

/** Creates the session directory if needed and returns it. */
export function ensureSessionDir(): string {
  const dir = sessionDir();
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** The path of `concert.log`. */
export function logPath(): string {
  return join(sessionDir(), 'concert.log');
}

const namePattern = /^[A-Za-z_][A-Za-z0-9_-]*$/;

/**
 * Checks a session name (letters, digits, `_`, `-`; not starting with a digit or `-`).
 * A trailing `.ts` is dropped.
 * @throws SessionError for a bad name.
 */
export function checkName(name: string): string {
  const n = name.endsWith('.ts') ? name.slice(0, -3) : name;
  if (!namePattern.test(n))
    throw new SessionError(
      `'${name}' is not a valid session name (use letters, digits, '_' and '-', starting with a letter)`,
    );
  return n;
}

/** The path of session `name` in the store (whether or not it exists). */
export function sessionPath(name: string): string {
  return join(sessionDir(), `${checkName(name)}.ts`);
}

/** True if the store holds session `name`. */
export function exists(name: string): boolean {
  return existsSync(sessionPath(name));
}

/** The names of the sessions in the store, sorted. */
export function listSessions(): string[] {
  const dir = sessionDir();
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.ts') && !f.startsWith('.') && namePattern.test(f.slice(0, -3)))
    .map((f) => f.slice(0, -3))
    .sort();
}

/** The names of the sessions shipped with Concert (`sessions/*.ts`). */
export function shippedSessions(): string[] {
  if (!existsSync(shippedDir)) return [];
  return readdirSync(shippedDir)
    .filter((f) => f.endsWith('.ts'))
    .map((f) => f.slice(0, -3))
    .sort();
}

/** Where session `name` is: the store first, then the shipped sessions (e.g. `demo`). */
export function findSession(name: string): { path: string; shipped: boolean } {
  const n = checkName(name);
  const own = sessionPath(n);
  if (existsSync(own)) return { path: own, shipped: false };
  const shipped = join(shippedDir, `${n}.ts`);
  if (existsSync(shipped)) return { path: shipped, shipped: true };
  const known = listSessions();
  throw new SessionError(
    `there is no session called '${n}' (${known.length ? `sessions: ${known.join(', ')}` : 'the store is empty'}); create it with ` +
      `\`concert init ${n}\``,
  );
}

/** The session name a file would get: its base name without `.ts`. */
export function nameOfFile(path: string): string {
  return basename(path, extname(path));
}

/** The history file of a session. */
export function historyPath(name: string): string {
  return join(sessionDir(), `.${name}.history`);
}

/** The lock file of a session. */
export function lockPath(name: string): string {
  return join(sessionDir(), `.${name}.lock`);
}

/**
 * The session's manual: the first doc comment (`/** … *\/`) at the top of the file, without the
 * comment markers. Empty if there is none.
 */
export function manual(source: string): string {
  const m = /^\s*(?:#![^\n]*\n\s*)?\/\*\*([\s\S]*?)\*\//.exec(source);
  if (!m) return '';
  return m[1]!
    .split('\n')
    .map((line) => line.replace(/^\s*\* ?/, '').trimEnd())
    .join('\n')
    .trim();
}

/**
 * What a session is, in one line: the first sentence of its manual's first paragraph (whole, over
 * line breaks), without a leading `NAME:` when NAME is the session's own name (`demo: a complete
 * simulated imaging setup, …` → `a complete simulated imaging setup, ready to play with offline.`).
 */
export function summary(source: string, name?: string): string {
  const first = manual(source).split(/\n\s*\n/)[0] ?? '';
  const line = first
    .split('\n')
    .map((l) => l.trim())
    .join(' ')
    .trim();
  const text = name !== undefined && line.startsWith(`${name}:`) ? line.slice(name.length + 1).trim() : line;
  // The first whole sentence (never cut mid-phrase); `e.g.`, `i.e.` and `etc.` do not end one.
  const sentence = /^(.*?(?<!\be\.g|\bi\.e|\betc)[.!?])(?=\s+[A-Z(`'"]|$)/.exec(text);
  return sentence ? sentence[1]! : text;
}

/**
 * A session source whose manual says `target:` where it said `source:` (a copy names itself).
 */
export function renameManual(text: string, source: string, target: string): string {
  return text.replace(
    new RegExp(`^(\\s*(?:#![^\\n]*\\n\\s*)?\\/\\*\\*\\s*\\n?\\s*\\*?\\s*)${source}:`),
    `$1${target}:`,
  );
}

/** True if the session source exports `MULTIINSTANCE = true` (it may run several times at once). */
export function isMultiInstance(source: string): boolean {
  return /export\s+(?:const|let|var)\s+MULTIINSTANCE(?:\s*:\s*\w+)?\s*=\s*true\b/.test(source);
}

export { processAlive };

/** A held session lock; `release()` removes the lock file (also done on process exit). */
export interface SessionLock {
  readonly path: string;
  release(): void;
}

/**
 * True if `pid` is a live `concert` process (a lock naming a live but unrelated pid, e.g. after a
 * reboot gave the number to another program, is stale). Where the command line cannot be read
 * (no /proc), any live process counts.
 */
export function concertProcessAlive(pid: number): boolean {
  if (!processAlive(pid)) return false;
  let cmdline: string;
  try {
    cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== 'ENOENT' || !existsSync('/proc/self');
  }
  return cmdline.split('\0').some((arg) => /(?:^|\/)concert(?:\.[cm]?[jt]s)?$/.test(arg));
}

/**
 * Takes the lock of session `name` (a file holding our pid). A lock left by a dead process, or
 * naming a live process that is not `concert`, is stale: it is removed and taken over.
 * @throws SessionError if a live process holds it.
 */
export function acquireLock(name: string): SessionLock {
  const path = lockPath(name);
  ensureSessionDir();
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(path, 'wx');
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      let held = true;
      const release = () => {
        if (!held) return;
        held = false;
        process.off('exit', release);
        try {
          if (readFileSync(path, 'utf8').trim() === String(process.pid)) unlinkSync(path);
        } catch {
          // already gone
        }
      };
      process.on('exit', release);
      return { path, release };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      let pid: number;
      try {
        pid = Number.parseInt(readFileSync(path, 'utf8').trim(), 10);
      } catch {
        continue; // removed meanwhile: try again
      }
      if (pid !== process.pid && concertProcessAlive(pid))
        throw new SessionError(
          `session '${name}' is already running (pid ${pid}); quit it first, or export MULTIINSTANCE = true from the session to allow ` +
            `several at once`,
        );
      try {
        unlinkSync(path); // stale: its process is gone
      } catch {
        // someone else cleared it
      }
    }
  }
  throw new SessionError(`could not lock session '${name}' (${path})`);
}

/** Writes a session file (creating the store). */
export function writeSession(name: string, text: string): string {
  ensureSessionDir();
  const path = sessionPath(name);
  writeFileSync(path, text);
  return path;
}
