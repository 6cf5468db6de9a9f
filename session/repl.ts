/**
 * The session REPL: node's REPL with TypeScript input, Ctrl-C that stops what the interrupted
 * command started, Concert-style error messages, completion of parameter names, per-session
 * history, and in-order execution of piped input.
 *
 * Why it is built this way: node refuses `breakEvalOnSigint` with a custom `eval`, so the default
 * eval is wrapped after start; a rejected await never calls the eval callback, so the end of a
 * command is detected by hooking `displayPrompt`.
 * @module
 */
import repl, { type REPLEval, type REPLServer } from 'node:repl';
import { PassThrough, type Readable } from 'node:stream';
import { abortError, isAbortError, Logger, runningOperations, withAbortScope, errorMessage } from '../core/index.js';
import { describeError } from './errors.js';
import { fastLoader } from './loader.js';
import { IncompleteInput, InputSyntaxError, transpile, typescript } from './transpile.js';

const log = new Logger('repl');

/** Options of {@link startRepl}. */
export interface SessionReplOptions {
  /** Shown in the prompt: `name > `. */
  name: string;
  /** Become globals at the prompt (the session's exports and the helpers). */
  globals: Record<string, unknown>;
  /** Where history is kept (terminal only). */
  historyFile?: string;
  /** The session file, to locate errors in it. */
  sessionFile?: string;
  input?: Readable & { isTTY?: boolean };
  output?: NodeJS.WritableStream & { isTTY?: boolean };
  /** Treat input as a terminal (default: `input.isTTY`). */
  terminal?: boolean;
  /** How long to wait after Ctrl-C for aborted operations to end before saying so (ms, default 1000). */
  cleanupNoticeMs?: number;
}

/** A running REPL; `closed` resolves with the exit status when the user quits (or input ends). */
export interface SessionRepl {
  readonly server: REPLServer;
  readonly closed: Promise<number>;
}

interface Command {
  controller: AbortController;
  interrupted: boolean;
  /** Operations running before the command started (background work of earlier commands). */
  before: number;
}

/**
 * Feeds piped input to the REPL one line at a time: the next line goes in only when the prompt is
 * back, so `await` lines run in order (node evaluates piped lines concurrently otherwise).
 */
class LineGate {
  readonly stream = new PassThrough();
  #lines: string[] = [];
  #partial = '';
  #ended = false;
  #ready = false;

  constructor(source: Readable) {
    source.setEncoding('utf8');
    source.on('data', (chunk: string) => {
      const parts = (this.#partial + chunk).split('\n');
      this.#partial = parts.pop()!;
      this.#lines.push(...parts);
      this.#pump();
    });
    source.on('end', () => {
      if (this.#partial) this.#lines.push(this.#partial);
      this.#partial = '';
      this.#ended = true;
      this.#pump();
    });
  }

  /** The REPL is ready for the next line. */
  next(): void {
    this.#ready = true;
    this.#pump();
  }

  #pump(): void {
    if (!this.#ready) return;
    const line = this.#lines.shift();
    if (line !== undefined) {
      this.#ready = false;
      this.stream.write(`${line}\n`);
    } else if (this.#ended) {
      this.#ready = false;
      this.stream.end();
    }
  }
}

function isInterrupted(error: unknown): boolean {
  return (
    typeof error === 'object' &&
    error !== null &&
    (error as { code?: unknown }).code === 'ERR_SCRIPT_EXECUTION_INTERRUPTED'
  );
}

/**
 * Starts the REPL.
 * @example
 * ```ts
 * const { closed } = startRepl({ name: 'demo', globals: { ...session, q } });
 * process.exitCode = await closed;
 * ```
 */
export function startRepl(options: SessionReplOptions): SessionRepl {
  const source = options.input ?? process.stdin;
  const output = options.output ?? process.stdout;
  const terminal = options.terminal ?? Boolean(source.isTTY);
  const gate = terminal ? undefined : new LineGate(source);
  const files = ['REPL', ...(options.sessionFile ? [options.sessionFile] : [])];
  const fast = fastLoader();
  const resolveSpecifier = fast ? (s: string) => fast.resolveSpecifier(s) : undefined;
  let errors = 0;

  const server = repl.start({
    prompt: `${options.name} > `,
    input: gate ? gate.stream : source,
    output,
    terminal,
    useGlobal: true,
    breakEvalOnSigint: true,
    ignoreUndefined: true,
    preview: false,
  });
  for (const [key, value] of Object.entries(options.globals)) server.context[key] = value;

  const print = (text: string) => output.write(text.endsWith('\n') ? text : `${text}\n`);
  const report = (error: unknown) => {
    errors++;
    if (isInterrupted(error)) {
      print('Interrupted (Ctrl-C): stopping what the command started');
      return;
    }
    if (isAbortError(error) && current?.interrupted) return; // the interrupted command's own AbortError
    print(describeError(error, files));
    log.error(`error at the prompt: ${errorMessage(error)}`, error);
  };

  // --- eval: TypeScript → JavaScript, each command in its own abort scope ---
  const defaultEval = server.eval;
  let current: Command | undefined;
  (server as { eval: REPLEval }).eval = function (this: REPLServer, code, context, file, callback) {
    // Tab completion evaluates `try { expr } catch {}`: plain JavaScript, no bookkeeping.
    if (/^try \{ [\s\S]* \} catch \{\}$/.test(code)) return defaultEval.call(this, code, context, file, callback);
    let js: string;
    try {
      js = code.trim() === '' ? code : transpile(code, resolveSpecifier);
    } catch (error) {
      if (error instanceof IncompleteInput) return callback(new repl.Recoverable(error), undefined);
      if (error instanceof InputSyntaxError) {
        errors++;
        print(`SyntaxError: ${error.message} (at <prompt>:${error.line}:${error.column})`);
        return callback(null, undefined);
      }
      throw error;
    }
    const command: Command = { controller: new AbortController(), interrupted: false, before: runningOperations() };
    current = command;
    withAbortScope(command.controller.signal, () => defaultEval.call(this, js, context, file, callback));
  };

  // --- errors: ours instead of node's "Uncaught …" ---
  const domain = (server as unknown as { _domain?: NodeJS.EventEmitter })._domain;
  if (domain) {
    domain.removeAllListeners('error');
    domain.on('error', (error: unknown) => {
      report(error);
      server.clearBufferedCommand();
      (server as unknown as { lines: { level: unknown[] } }).lines.level = [];
      server.displayPrompt();
    });
  }

  // --- the end of a command: node shows the prompt again ---
  let cleanup: { presses: number; giveUp: () => void } | undefined;
  const showPrompt = server.displayPrompt.bind(server);
  server.displayPrompt = (preserveCursor?: boolean) => {
    const command = current;
    current = undefined;
    if (command?.interrupted) {
      void waitForCleanup(command).then(() => {
        showPrompt(preserveCursor);
        gate?.next();
      });
      return;
    }
    showPrompt(preserveCursor);
    gate?.next();
  };

  const noticeMs = options.cleanupNoticeMs ?? 1000;
  async function waitForCleanup(command: Command): Promise<void> {
    const start = performance.now();
    let noticed = false;
    let gaveUp = false;
    cleanup = { presses: 0, giveUp: () => (gaveUp = true) };
    try {
      while (!gaveUp && runningOperations() > command.before) {
        if (!noticed && performance.now() - start > noticeMs) {
          noticed = true;
          print(`Still stopping ${runningOperations() - command.before} operation(s)…`);
        }
        await new Promise((r) => setTimeout(r, 10));
      }
    } finally {
      cleanup = undefined;
    }
  }

  // --- Ctrl-C ---
  const nodeSigint = server.listeners('SIGINT') as Array<() => void>;
  server.removeAllListeners('SIGINT');
  server.on('SIGINT', () => {
    if (cleanup) {
      cleanup.presses++;
      if (cleanup.presses === 1) {
        print(
          `\nStill cleaning up after Ctrl-C (${Math.max(0, runningOperations())} operation(s) running); press Ctrl-C again to stop waiting`,
        );
      } else {
        print('\nStopped waiting for the cleanup; it goes on in the background (abort() cancels everything)');
        cleanup.giveUp();
      }
      return;
    }
    const command = current;
    for (const listener of nodeSigint) listener.call(server);
    if (command) {
      command.interrupted = true;
      command.controller.abort(abortError('interrupted by Ctrl-C'));
    }
  });
  if (!terminal) {
    // Piped input: Ctrl-C is a real signal. Abort the running command; with none, quit.
    process.on('SIGINT', () => {
      if (current) {
        current.interrupted = true;
        current.controller.abort(abortError('interrupted by Ctrl-C'));
      } else process.exit(130);
    });
  }

  // --- completion of parameter names: motor.param('po<TAB> ---
  const complete = server.completer as (
    line: string,
    cb: (err: Error | null, result: [string[], string]) => void,
  ) => void;
  (server as unknown as { completer: typeof complete }).completer = (line, cb) => {
    const m = /([A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*)\.param\(\s*(['"])([\w$]*)$/.exec(line);
    if (m) {
      let target: unknown = globalThis;
      for (const key of m[1]!.split('.'))
        target = target == null ? undefined : (target as Record<string, unknown>)[key];
      const params = (target as { parameters?: () => Array<{ name: string }> } | undefined)?.parameters;
      if (typeof params === 'function') {
        const names = params
          .call(target)
          .map((p) => p.name)
          .filter((n) => n.startsWith(m[3]!));
        return cb(null, [names.map((n) => `${n}${m[2]})`), m[3]!]);
      }
    }
    complete.call(server, line, cb);
  };

  if (terminal && options.historyFile) {
    server.setupHistory(options.historyFile, (error) => {
      if (error) log.warn(`cannot use history file ${options.historyFile}: ${error.message}`);
    });
  }

  const closed = new Promise<number>((resolve) => {
    server.on('exit', () => resolve(terminal ? 0 : errors > 0 ? 1 : 0));
  });

  if (gate) gate.next();
  // TypeScript is loaded after the first prompt is up, so it does not delay start-up.
  else setImmediate(() => typescript());
  return { server, closed };
}
