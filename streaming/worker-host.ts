/**
 * The worker thread of a {@link WorkerPool}: imports the step's worker module, calls its
 * `setup(config)` once if it has one, then its default export (or its `process` export) for
 * every item, and posts the result back, transferring the result's buffers. In a session, the
 * module is transpiled as session files are and imports `concert/…` as they do
 * (`setWorkerModuleMapper` in core/worker.ts).
 * @module
 * @internal
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { HostMessage, TaskMessage } from './worker-pool.js';
import { transferables } from './transfer.js';

type Process = (input: unknown, context: unknown) => unknown;

const port = parentPort!;
const { module, config } = workerData as { module: string; config: unknown };

function describe(error: unknown): { name: string; message: string; stack?: string } {
  if (error instanceof Error) return { name: error.name, message: error.message, stack: error.stack };
  return { name: 'Error', message: String(error) };
}

async function load(): Promise<Process> {
  const loaded = (await import(module)) as { default?: unknown; process?: unknown; setup?: unknown };
  const fn = typeof loaded.default === 'function' ? loaded.default : loaded.process;
  if (typeof fn !== 'function')
    throw new TypeError(
      `worker module ${module} exports no function: export default (input, context) => result, or export function process(…)`,
    );
  if (typeof loaded.setup === 'function') await (loaded.setup as (config: unknown) => unknown)(config);
  return fn as Process;
}

load().then(
  (fn) => {
    port.on('message', (task: TaskMessage) => {
      void (async () => {
        let reply: HostMessage;
        try {
          const value = await fn(task.input, task.context);
          reply = { kind: 'result', id: task.id, value };
          port.postMessage(reply, transferables(value));
        } catch (error) {
          reply = { kind: 'error', id: task.id, error: describe(error) };
          port.postMessage(reply);
        }
      })();
    });
    port.postMessage({ kind: 'ready' } satisfies HostMessage);
  },
  (error: unknown) => port.postMessage({ kind: 'failed', error: describe(error) } satisfies HostMessage),
);
