/**
 * Test support for the `concert` command: a temporary session store, running the CLI as a
 * subprocess, and driving the interactive REPL through tmux the way a person would.
 */
import { execFileSync, spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root. */
export const root = fileURLToPath(new URL('../../../', import.meta.url));
/** The `concert` executable. */
export const concertBin = join(root, 'bin', 'concert');

/** A fresh XDG_DATA_HOME (the store is `<it>/concert`); remove it with {@link removeTemp}. */
export function tempHome(): string {
  return mkdtempSync(join(tmpdir(), 'concert-test-'));
}

export function removeTemp(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** Result of a CLI run. */
export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `concert ...args` to completion with XDG_DATA_HOME = `home`. */
export function concert(
  home: string,
  args: string[],
  options: { input?: string; cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): CliResult {
  const r: SpawnSyncReturns<string> = spawnSync(process.execPath, [concertBin, ...args], {
    cwd: options.cwd ?? root,
    env: { ...process.env, XDG_DATA_HOME: home, ...options.env },
    input: options.input ?? '',
    encoding: 'utf8',
    timeout: options.timeoutMs ?? 15_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Runs `concert ...args` asynchronously (for commands that serve while the test acts). */
export function concertAsync(
  home: string,
  args: string[],
  options: { input?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [concertBin, ...args], {
      cwd: root,
      env: { ...process.env, XDG_DATA_HOME: home, ...options.env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 15_000);
    child.on('error', reject);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
    child.stdin.end(options.input ?? '');
  });
}

/** True if a program is on PATH. */
export function have(program: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${program}`], { encoding: 'utf8' }).status === 0;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let socketCount = 0;

/**
 * One tmux server (unique `-L` socket) with one window running a command; `kill()` ends the
 * server and everything in it.
 */
export class Tmux {
  readonly socket = `concert-test-${process.pid}-${++socketCount}`;
  readonly target = 'main';

  constructor(
    command: string,
    readonly env: NodeJS.ProcessEnv = {},
  ) {
    const exports = Object.entries(env)
      .map(([k, v]) => `${k}=${shellQuote(String(v))}`)
      .join(' ');
    // Keep the pane after the command ends, with its exit status, so tests can read both.
    const script = `cd ${shellQuote(root)} && env ${exports} ${command}; echo "[exited $?]"; sleep 120`;
    this.#tmux('new-session', '-d', '-x', '200', '-y', '50', '-s', this.target, script);
  }

  #tmux(...args: string[]): string {
    return execFileSync('tmux', ['-L', this.socket, ...args], { encoding: 'utf8' });
  }

  /** Sends keys (tmux key names: `Enter`, `C-c`, `Tab`, …). */
  keys(...keys: string[]): void {
    this.#tmux('send-keys', '-t', this.target, ...keys);
  }

  /** Types `text` literally, then Enter. */
  line(text: string): void {
    this.#tmux('send-keys', '-t', this.target, '-l', text);
    this.#tmux('send-keys', '-t', this.target, 'Enter');
  }

  /** Types `text` literally (no Enter). */
  type(text: string): void {
    this.#tmux('send-keys', '-t', this.target, '-l', text);
  }

  /** The visible screen plus scroll-back, trailing blank lines removed. */
  screen(): string {
    return this.#tmux('capture-pane', '-p', '-J', '-S', '-2000', '-t', this.target).replace(/\s+$/, '');
  }

  /** Waits until the screen matches `pattern` (and returns the screen). */
  async waitFor(pattern: RegExp | string, timeoutMs = 10_000): Promise<string> {
    const start = Date.now();
    for (;;) {
      const s = this.screen();
      if (typeof pattern === 'string' ? s.includes(pattern) : pattern.test(s)) return s;
      if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${pattern}; screen:\n${s}`);
      await sleep(40);
    }
  }

  /** The screen text after the last time `marker` occurs. */
  after(marker: string): string {
    const s = this.screen();
    const i = s.lastIndexOf(marker);
    return i < 0 ? '' : s.slice(i + marker.length);
  }

  /** Ends the tmux server and every process in it, and removes its socket file. */
  kill(): void {
    try {
      this.#tmux('kill-server');
    } catch {
      // already gone
    }
    const dir = join(process.env.TMUX_TMPDIR || '/tmp', `tmux-${process.getuid?.() ?? 0}`);
    rmSync(join(dir, this.socket), { force: true });
  }
}

/** Quotes for sh. */
export function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * A REPL session driven through tmux: `run(input)` types a line and waits for the next prompt,
 * returning what the command printed.
 */
export class DrivenSession {
  readonly tmux: Tmux;
  readonly prompt: string;
  #count = 0;

  constructor(
    readonly home: string,
    readonly name: string,
    args: string[] = [],
  ) {
    this.prompt = `${name} > `;
    this.tmux = new Tmux(`${shellQuote(concertBin)} start ${[name, ...args].map(shellQuote).join(' ')}`, {
      XDG_DATA_HOME: home,
    });
  }

  /** Waits for the first prompt. */
  async ready(timeoutMs = 15_000): Promise<void> {
    await this.tmux.waitFor(new RegExp(`^${escape(this.prompt)}$`, 'm'), timeoutMs);
  }

  /** Number of prompts on screen. */
  prompts(): number {
    return this.tmux
      .screen()
      .split('\n')
      .filter((l) => l.startsWith(this.prompt.trimEnd())).length;
  }

  /** Types `input`, Enter, and waits for the prompt to come back; returns the output in between. */
  async run(input: string, timeoutMs = 10_000): Promise<string> {
    const before = this.prompts();
    // A unique marker comment makes the command findable on screen.
    const tag = `/*#${++this.#count}*/`;
    this.tmux.line(`${input} ${tag}`);
    await this.waitForPrompts(before + 1, timeoutMs);
    return this.outputOf(tag);
  }

  /** Waits until at least `n` prompts are on screen, the last one empty. */
  async waitForPrompts(n: number, timeoutMs = 10_000): Promise<void> {
    const start = Date.now();
    for (;;) {
      const lines = this.tmux.screen().split('\n');
      const count = lines.filter((l) => l.startsWith(this.prompt.trimEnd())).length;
      if (count >= n && lines.at(-1)!.trimEnd() === this.prompt.trimEnd()) return;
      if (Date.now() - start > timeoutMs)
        throw new Error(`timed out waiting for prompt ${n}; screen:\n${this.tmux.screen()}`);
      await sleep(30);
    }
  }

  /** The lines printed after the command tagged `tag`, up to the next prompt. */
  outputOf(tag: string): string {
    const s = this.tmux.screen();
    const i = s.lastIndexOf(tag);
    if (i < 0) return '';
    const rest = s
      .slice(i + tag.length)
      .split('\n')
      .slice(1);
    const end = rest.findIndex((l) => l.startsWith(this.prompt.trimEnd()));
    return rest
      .slice(0, end < 0 ? undefined : end)
      .join('\n')
      .trim();
  }

  kill(): void {
    this.tmux.kill();
  }
}

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/\s+$/, '\\s*');
}
