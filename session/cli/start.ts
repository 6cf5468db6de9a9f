/**
 * `concert start [NAME] [--filename FILE] [--non-interactive] [--logto stderr|file] [--logfile F]
 * [--loglevel L] [--no-progress]`: runs a session file, then (unless non-interactive) a REPL with
 * the session's exports as globals.
 * @module
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import {
  SessionError,
  acquireLock,
  ensureSessionDir,
  findSession,
  historyPath,
  isMultiInstance,
  logPath,
  nameOfFile,
  type SessionLock,
} from '../store.js';
import type { StartCliOptions } from './main.js';

/** The session to run: its name (for the prompt, lock and history) and file (none: empty session). */
interface Target {
  name: string;
  file?: string;
}

function target(name: string | undefined, options: StartCliOptions): Target {
  if (options.filename !== undefined) {
    const file = resolve(options.filename);
    if (!existsSync(file)) throw new SessionError(`there is no session file ${options.filename}`);
    return { name: name ?? nameOfFile(file), file };
  }
  if (name === undefined) return { name: 'concert' };
  return { name, file: findSession(name).path };
}

/** Starts a session; returns the exit status. */
export async function start(name: string | undefined, options: StartCliOptions): Promise<number> {
  const t0 = performance.now();
  const session = target(name, options);
  const source = session.file ? readFileSync(session.file, 'utf8') : '';

  // Logging: every line to concert.log (or stderr), tagged with the session name.
  const timing = process.env.CONCERT_STARTUP_TIMING
    ? (what: string) => process.stderr.write(`[concert] ${what} after ${performance.now().toFixed(0)} ms\n`)
    : () => {};
  timing('start command');
  const core = await import('../../core/index.js');
  timing('core loaded');
  core.setLogLevel(options.loglevel);
  const logFile = options.logfile ? resolve(options.logfile) : logPath();
  if (options.logto === 'file') mkdirSync(dirname(logFile), { recursive: true });
  core.setLogSink((level, src, message, error) => {
    const line = core.formatLogLine(level, `${session.name}:${src}`, message, error);
    if (options.logto === 'stderr') process.stderr.write(line);
    else appendFileSync(logFile, line);
  });
  const log = new core.Logger('session');

  let lock: SessionLock | undefined;
  if (!isMultiInstance(source)) lock = acquireLock(session.name);
  else ensureSessionDir();
  // A closed terminal (SIGHUP) or `kill` (SIGTERM): stop the devices' operations, free the lock.
  for (const [signal, code] of [
    ['SIGHUP', 129],
    ['SIGTERM', 143],
  ] as const) {
    process.once(signal, () => {
      core.abortAll();
      lock?.release();
      process.exit(code);
    });
  }

  // Ctrl-C while the session file runs: abort what it started, then quit.
  const loading = new AbortController();
  const onSigint = () => {
    if (loading.signal.aborted) process.exit(130);
    process.stderr.write('\nInterrupted while loading the session: stopping…\n');
    loading.abort(core.abortError('interrupted by Ctrl-C while loading the session'));
    core.abortAll();
  };
  process.on('SIGINT', onSigint);

  // The prompt's modules load while the session does (their file reads overlap).
  const promptModules = options.nonInteractive
    ? undefined
    : Promise.all([import('../helpers.js'), import('../repl/index.js'), import('../progress.js')]);
  promptModules?.catch(() => {}); // an error surfaces where it is awaited

  let exports: Record<string, unknown> = {};
  if (session.file) {
    const { activeLoader, loadSession, describeLoadError } = await import('../loader/index.js');
    try {
      await activeLoader()?.prepareSession(session.file);
      loading.signal.throwIfAborted();
      exports = await core.withAbortScope(loading.signal, () => loadSession(session.file!));
    } catch (error) {
      process.stderr.write(`${describeLoadError(error, session.file, source)}\n`);
      log.error(`session ${session.file} failed to load`, error);
      lock?.release();
      return loading.signal.aborted ? 130 : 1;
    }
  }
  process.off('SIGINT', onSigint);
  timing('session loaded');
  log.info(
    `session ${session.name} loaded in ${(performance.now() - t0).toFixed(0)} ms${session.file ? ` from ${session.file}` : ''}`,
  );

  if (options.nonInteractive) {
    lock?.release();
    const code = typeof process.exitCode === 'number' ? process.exitCode : 0;
    // Devices may hold timers or sockets open; the session is complete, so leave now.
    process.exit(code);
  }

  const [helpers, { startRepl }, { setProgressRenderer, terminalRenderer }] = await promptModules!;
  const interactive = Boolean(process.stdin.isTTY);
  if (interactive && options.progress !== false && process.stdout.isTTY)
    setProgressRenderer(terminalRenderer(process.stdout));
  const globals: Record<string, unknown> = {
    q: core.q,
    ddoc: helpers.ddoc,
    dstate: helpers.dstate,
    pdoc: helpers.makePdoc(source, exports),
    abort: helpers.abort,
    checkEmergencyStop: helpers.checkEmergencyStop,
    ...exports,
  };
  if (interactive) {
    const { manual } = await import('../store.js');
    const first = manual(source).split('\n')[0];
    process.stdout.write(
      `Concert session '${session.name}'${first ? `: ${first}` : ''}\nHelpers: ddoc(), await dstate(), pdoc(), abort(); Ctrl-C stops ` +
        `the running command, Ctrl-D quits.\n`,
    );
  }
  const { closed } = startRepl({
    name: session.name,
    globals,
    historyFile: historyPath(session.name),
    sessionFile: session.file,
  });
  timing('first prompt');
  const code = await closed;
  lock?.release();
  process.exit(code);
}
