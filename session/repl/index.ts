/**
 * The session REPL: node's REPL with TypeScript input and top-level `await`, Ctrl-C that stops
 * what the interrupted command started, Concert-style error messages, completion of parameter
 * names, quantities printed as `2 mm`, per-session history, and in-order execution of piped
 * input. Each part lives in its own module; {@link startRepl} puts them together:
 *
 * - evaluation.ts: the TypeScript eval (wrapping node's default one) and the prompt hook;
 * - commands.ts: the running command and its abort scope;
 * - interrupt.ts: Ctrl-C;
 * - completion.ts: Tab;
 * - inspection.ts: how values print;
 * - report.ts: how errors print;
 * - line-gate.ts: piped input one line per prompt;
 * - transpile.ts: TypeScript → JavaScript for one input.
 *
 * See docs/sessions.md, and shared notes on node's REPL, for why it is built this way.
 * @module
 * @internal
 */
import repl, { type REPLServer } from 'node:repl';
import type { Readable } from 'node:stream';
import { Logger } from '../../core/index.js';
import { activeLoader, typescript } from '../loader/index.js';
import { Commands } from './commands.js';
import { completeParameterName, installCompletion } from './completion.js';
import { hookPrompt, installEvaluation } from './evaluation.js';
import { installDisplay, installQuantityInspection } from './inspection.js';
import { Interrupts } from './interrupt.js';
import { LineGate } from './line-gate.js';
import { ErrorReport } from './report.js';
import { transpile } from './transpile.js';

export { completeParameterName, Commands, ErrorReport, Interrupts, LineGate, transpile };
export { internals } from './internals.js';

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
  /**
   * Maps import specifiers typed at the prompt (default: the active loader's, so `concert/…` and
   * relative `.ts` files work; none without a loader).
   */
  resolveSpecifier?: (specifier: string) => string | undefined;
}

/** A running REPL; `closed` resolves with the exit status when the user quits (or input ends). */
export interface SessionRepl {
  readonly server: REPLServer;
  readonly closed: Promise<number>;
  /** The running command (Ctrl-C aborts it). */
  readonly commands: Commands;
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
  const loader = activeLoader();
  const resolveSpecifier = options.resolveSpecifier ?? (loader && ((s: string) => loader.resolvePromptSpecifier(s)));

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
  const commands = new Commands();
  const report = new ErrorReport(print, ['REPL', ...(options.sessionFile ? [options.sessionFile] : [])], commands);
  const interrupts = new Interrupts(server, commands, {
    print,
    noticeMs: options.cleanupNoticeMs ?? 1000,
    terminal,
  });

  installEvaluation(server, { transpile: (code) => transpile(code, resolveSpecifier), commands, report });
  hookPrompt(server, (show) => {
    const command = commands.finish();
    const ready = () => {
      show();
      gate?.next();
    };
    if (command?.interrupted) void interrupts.waitForCleanup(command).then(ready);
    else ready();
  });
  interrupts.install();
  installCompletion(server);
  installQuantityInspection();
  installDisplay(server);

  if (terminal && options.historyFile) {
    server.setupHistory(options.historyFile, (error) => {
      if (error) log.warn(`cannot use history file ${options.historyFile}: ${error.message}`);
    });
  }

  const closed = new Promise<number>((resolve) => {
    server.on('exit', () => resolve(terminal ? 0 : report.count > 0 ? 1 : 0));
  });

  if (gate) gate.next();
  // TypeScript is loaded after the first prompt is up, so it does not delay start-up.
  else setImmediate(() => typescript());
  return { server, closed, commands };
}
