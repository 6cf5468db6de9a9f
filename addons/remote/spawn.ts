/**
 * Starts servers as child processes (for tests, benchmarks and scripts), waits for their
 * "listening on" line, and stops them (SIGTERM, then SIGKILL). A server still running when this
 * process exits — a session file that failed after starting it, `process.exit()` — gets SIGTERM
 * then, so it never outlives the process that started it.
 * @module
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { receivesFrames, serverProcess } from './server-runtime.js';

const entry = fileURLToPath(new URL('./spawn-entry.ts', import.meta.url));
/** tsx's loader, resolved from here: `--import tsx` would resolve it from the working directory. */
const tsx = import.meta.resolve('tsx');

/** The servers started and not yet exited: stopped when this process exits. */
const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of running) child.kill('SIGTERM');
});

/** A server process. */
export interface ServerProcess {
  endpoint: string;
  child: ChildProcess;
  output: () => string;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/**
 * Spawns `kind` server with `options` (see `ServeOptions`); resolves with its control endpoint.
 * A server that receives frames runs with the receiver's process settings (server-runtime.ts).
 * `timeoutMs` (default 60 s: a server transpiles its modules when it starts, which takes long on a
 * loaded machine) bounds the wait for its "listening on" line; the process is killed after it.
 */
export function spawnServer(
  kind: string,
  options: Record<string, unknown> = {},
  timeoutMs = 60_000,
): Promise<ServerProcess> {
  const { nodeOptions, env } = serverProcess(receivesFrames(kind));
  const child = spawn(process.execPath, [...nodeOptions, '--import', tsx, entry, kind, JSON.stringify(options)], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env,
  });
  running.add(child);
  child.once('exit', () => running.delete(child));
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${kind} server did not start within ${timeoutMs} ms:\n${out}`));
    }, timeoutMs);
    const onData = () => {
      const m = /listening on (\S+)/.exec(out);
      if (!m) return;
      clearTimeout(timer);
      child.stdout!.off('data', onData);
      resolve({
        endpoint: m[1]!,
        child,
        output: () => out,
        async stop(signal: NodeJS.Signals = 'SIGTERM') {
          if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
          child.kill(signal);
          const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
          const code = await exited;
          clearTimeout(killer);
          return code;
        },
      });
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${kind} server exited (${code}) before listening:\n${out}`));
    });
  });
}
