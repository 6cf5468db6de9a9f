/**
 * The web viewer's server thread: one worker per process, started on first use, shared by every
 * `WebViewer` (messages carry the viewer's id).
 * @module
 * @internal
 */
import type { Worker } from 'node:worker_threads';
import { startModuleWorker } from '../../../core/worker.js';
import { Logger } from '../../../core/index.js';
import type { FromWorker } from './worker.js';

/** The one server thread of this process and the viewers it serves. */
export interface ServerThread {
  worker: Worker;
  nextId: number;
  /** Viewers not yet closed (the thread keeps the process alive while there are any). */
  open: number;
  handlers: Map<number, (m: FromWorker) => void>;
  /** Viewers waiting for their server to close (released if the thread dies). */
  closing: Map<number, () => void>;
  failed?: (error: Error) => void;
  /** True once the thread has exited (its viewers are gone). */
  exited: boolean;
}

let thread: ServerThread | undefined;

/** The server thread, started on first use (and again if it died). */
export function serverThread(): ServerThread {
  if (thread) return thread;
  const worker = startWorker();
  const t: ServerThread = (thread = {
    worker,
    nextId: 1,
    open: 0,
    handlers: new Map(),
    closing: new Map(),
    exited: false,
  });
  worker.on('message', (m: FromWorker) => t.handlers.get(m.id)?.(m));
  worker.on('error', (error) => {
    new Logger('web viewer').error(`server thread failed: ${error.message}`, error);
    t.failed?.(error);
  });
  worker.on('exit', (code) => {
    t.exited = true;
    if (thread === t) thread = undefined;
    t.failed?.(new Error(`the server thread exited (code ${code})`));
    for (const resolve of t.closing.values()) resolve();
  });
  worker.unref();
  return t;
}

/** Starts the worker module (see `core/worker.ts` for how it runs under tsx). */
function startWorker(): Worker {
  return startModuleWorker(import.meta.url, 'worker');
}
