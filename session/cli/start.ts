/**
 * `concert start [NAME] [--filename FILE] [--non-interactive] [--dry-run] [--logto stderr|file]
 * [--logfile F] [--loglevel L] [--no-progress]`: runs a session file, then (unless non-interactive)
 * a REPL with the session's exports as globals. `--dry-run` estimates every exported experiment
 * instead (see {@link dryRun}).
 * @module
 */
import { existsSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
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
    ? (what: string) => {
        const cpu = process.cpuUsage();
        const cpuMs = ((cpu.user + cpu.system) / 1000).toFixed(0);
        process.stderr.write(`[concert] ${what} after ${performance.now().toFixed(0)} ms (CPU ${cpuMs} ms)\n`);
      }
    : () => {};
  timing('start command');
  const core = await import('../../core/index.js');
  timing('core loaded');
  core.setLogLevel(options.loglevel);
  const logFile = options.logfile ? resolve(options.logfile) : logPath();
  if (options.logto === 'file') mkdirSync(dirname(logFile), { recursive: true });
  // Opened once for appending: a line is one write (an append by name opens and closes the file
  // each time, 5× the cost of a parameter set); written synchronously, so a crash loses no line.
  const logFd = options.logto === 'file' ? openSync(logFile, 'a') : undefined;
  core.setLogSink((level, src, message, error) => {
    const line = core.formatLogLine(level, `${session.name}:${src}`, message, error);
    if (logFd === undefined) process.stderr.write(line);
    else writeSync(logFd, line);
  });
  const log = new core.Logger('session');

  let lock: SessionLock | undefined;
  if (!isMultiInstance(source)) lock = acquireLock(session.name);
  else ensureSessionDir();
  // A closed terminal (SIGHUP) or `kill` (SIGTERM): cancel what runs as Ctrl-C would (files
  // closed, shutter closed, finish records written), free the lock, leave; a second signal leaves at once.
  const { stopRunning } = await import('../shutdown.js');
  let leaving = false;
  for (const [signal, code] of [
    ['SIGHUP', 129],
    ['SIGTERM', 143],
  ] as const) {
    process.on(signal, () => {
      if (leaving) process.exit(code);
      leaving = true;
      log.warn(`${signal}: the session is leaving`);
      const print = (text: string) => {
        log.info(text);
        if (signal === 'SIGTERM') process.stderr.write(`\n${text}\n`);
      };
      void stopRunning({ reason: `the session received ${signal}`, print }).finally(() => {
        lock?.release();
        process.exit(code);
      });
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
  const promptModules =
    options.nonInteractive || options.dryRun
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
      // What the session opened before it failed (sockets, servers, timers) would keep the
      // process alive: stop its operations and leave now.
      core.abortAll(core.abortError('the session failed to load'));
      process.exit(loading.signal.aborted ? 130 : 1);
    }
  }
  process.off('SIGINT', onSigint);
  timing('session loaded');
  log.info(
    `session ${session.name} loaded in ${(performance.now() - t0).toFixed(0)} ms${session.file ? ` from ${session.file}` : ''}`,
  );

  if (options.dryRun) {
    const code = await dryRun(exports, (text) => process.stdout.write(`${text}\n`));
    lock?.release();
    process.exit(code);
  }

  if (options.nonInteractive) {
    await stopRunning({ reason: 'the session file has ended', print: (text) => log.info(text) });
    lock?.release();
    const code = typeof process.exitCode === 'number' ? process.exitCode : 0;
    // Devices may hold timers or sockets open; the session is complete, so leave now.
    process.exit(code);
  }

  const [helpers, { startRepl, internals }, { setProgressRenderer, terminalRenderer }] = await promptModules!;
  const interactive = Boolean(process.stdin.isTTY);
  const bars =
    interactive && options.progress !== false && process.stdout.isTTY
      ? terminalRenderer(process.stdout, { alsoGuard: [process.stderr] })
      : undefined;
  setProgressRenderer(bars);
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
    const { summary } = await import('../store.js');
    const first = summary(source, session.name);
    process.stdout.write(
      `Concert session '${session.name}'${first ? `: ${first}` : ''}\nHelpers: ddoc(), await dstate(), pdoc(), abort(); Ctrl-C stops ` +
        `the running command, Ctrl-D quits.\n`,
    );
  }
  const { closed, server, commands } = startRepl({
    name: session.name,
    globals,
    historyFile: historyPath(session.name),
    sessionFile: session.file,
  });
  bars?.attachPrompt({
    idle: () => commands.current === undefined,
    refresh: () => internals(server)._refreshLine(),
  });
  timing('first prompt');
  const code = await closed;
  // Ctrl-D, `.exit` or the end of piped input with a run still going: cancel it cleanly first.
  await stopRunning({
    reason: 'the session is quitting',
    print: (text) => {
      log.info(text);
      process.stdout.write(`${text}\n`);
    },
  });
  lock?.release();
  process.exit(code);
}

/** What `--dry-run` needs of an experiment (any exported object with these is one). */
interface Estimable {
  readonly name: string;
  estimate(): Promise<{ readonly ok: boolean; toString(): string }>;
}

function isEstimable(value: unknown): value is Estimable {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Estimable).estimate === 'function' &&
    typeof (value as { run?: unknown }).run === 'function' &&
    Array.isArray((value as { acquisitions?: unknown }).acquisitions) &&
    Array.isArray((value as { addons?: unknown }).addons)
  );
}

/**
 * `--dry-run`: estimates every experiment among `exports` (nothing moves, no frame is taken)
 * and prints each table. Returns 0 when no run would hit a limit, 1 when one would, 2 when the
 * session exports no experiment or an estimate fails.
 */
export async function dryRun(exports: Record<string, unknown>, print: (text: string) => void): Promise<number> {
  const experiments = Object.entries(exports).filter((e): e is [string, Estimable] => isEstimable(e[1]));
  if (experiments.length === 0) {
    print('dry run: the session exports no experiment to estimate');
    return 2;
  }
  const { errorMessage } = await import('../../core/index.js');
  let code = 0;
  for (const [binding, experiment] of experiments) {
    try {
      const estimate = await experiment.estimate();
      print(`${binding}: ${String(estimate)}\n`);
      if (!estimate.ok) code = Math.max(code, 1);
    } catch (error) {
      print(`${binding}: cannot be estimated: ${errorMessage(error)}\n`);
      code = 2;
    }
  }
  return code;
}
