/**
 * Worker threads that run a step's worker module, one item at a time each: inputs are copied to
 * the worker (structured clone: other readers may still use them), results come back with their
 * buffers transferred. A worker that dies is replaced; its item fails with the reason.
 * @module
 * @internal
 */
import type { Worker } from 'node:worker_threads';
import { startModuleWorker, workerModuleUrl } from '../core/worker.js';
import { StreamingError } from './errors.js';

/** A task posted to a worker. */
export interface TaskMessage {
  readonly id: number;
  readonly input: unknown;
  readonly context: unknown;
}

/** What a worker posts back. */
export type HostMessage =
  | { kind: 'ready' }
  | { kind: 'failed'; error: SerializedError }
  | { kind: 'result'; id: number; value: unknown }
  | { kind: 'error'; id: number; error: SerializedError };

interface SerializedError {
  name: string;
  message: string;
  stack?: string;
}

interface Task {
  id: number;
  input: unknown;
  context: unknown;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

/** Worker start-ups that may fail in a row before the pool gives up. */
const RESTARTS = 3;

function revive(e: SerializedError): Error {
  const error = new Error(e.message);
  error.name = e.name;
  if (e.stack) error.stack = e.stack;
  return error;
}

/** A fixed number of worker threads running one module. */
export class WorkerPool {
  readonly #module: string;
  readonly #config: unknown;
  readonly #owner: string;
  readonly #idle: Worker[] = [];
  readonly #busy = new Map<Worker, Task>();
  readonly #queue: Task[] = [];
  #nextId = 0;
  #closed = false;
  #broken: StreamingError | undefined;
  #failedStarts = 0;
  #size: number;

  private constructor(owner: string, module: string, size: number, config: unknown) {
    this.#owner = owner;
    this.#module = module;
    this.#size = size;
    this.#config = config;
  }

  /**
   * Starts `size` workers running `module` (a file URL) and waits until each has loaded it.
   * @throws StreamingError if the module cannot be loaded or exports no function.
   */
  static async create(owner: string, module: string, size: number, config?: unknown): Promise<WorkerPool> {
    const pool = new WorkerPool(owner, module, size, config);
    const started = await Promise.allSettled(Array.from({ length: size }, () => pool.#start()));
    for (const s of started) if (s.status === 'fulfilled') pool.#idle.push(s.value);
    const failure = started.find((s) => s.status === 'rejected');
    if (failure) {
      await pool.close();
      throw failure.reason;
    }
    return pool;
  }

  /** Number of worker threads. */
  get size(): number {
    return this.#size;
  }

  /** Starts one worker; resolves once it has loaded the module. */
  #start(): Promise<Worker> {
    const worker = startModuleWorker(import.meta.url, 'worker-host', {
      workerData: { module: workerModuleUrl(this.#module), config: this.#config },
    });
    return new Promise<Worker>((resolve, reject) => {
      const fail = (why: string, cause?: unknown) => {
        void worker.terminate();
        reject(new StreamingError(`${this.#owner}: worker module ${this.#module} ${why}`, { cause }));
      };
      const onExit = (code: number) => fail(`exited with code ${code} while loading`);
      const onError = (error: Error) => fail(`failed to load: ${error.message}`, error);
      worker.once('exit', onExit);
      worker.once('error', onError);
      worker.once('message', (message: HostMessage) => {
        worker.off('exit', onExit);
        worker.off('error', onError);
        if (message.kind !== 'ready') {
          const error = message.kind === 'failed' ? revive(message.error) : new Error('unexpected first message');
          return fail(`failed to load: ${error.message}`, error);
        }
        this.#listen(worker);
        resolve(worker);
      });
    });
  }

  /** Routes a running worker's replies to its task, and replaces it if it dies. */
  #listen(worker: Worker): void {
    worker.on('message', (message: HostMessage) => {
      const task = this.#busy.get(worker);
      if (!task || !('id' in message) || message.id !== task.id) return;
      this.#busy.delete(worker);
      if (message.kind === 'result') task.resolve(message.value);
      else if (message.kind === 'error') task.reject(revive(message.error));
      this.#idle.push(worker);
      this.#dispatch();
    });
    let failure: Error | undefined;
    worker.on('error', (error) => (failure = error));
    worker.on('exit', (code) => {
      const task = this.#busy.get(worker);
      this.#busy.delete(worker);
      const i = this.#idle.indexOf(worker);
      if (i >= 0) this.#idle.splice(i, 1);
      if (this.#closed) return;
      const why = failure ? `failed: ${failure.message}` : `exited with code ${code}`;
      task?.reject(new StreamingError(`${this.#owner}: a worker ${why} while processing an item`, { cause: failure }));
      this.#replace();
    });
  }

  #replace(): void {
    this.#start().then(
      (worker) => {
        this.#failedStarts = 0;
        if (this.#closed) return void worker.terminate();
        this.#idle.push(worker);
        this.#dispatch();
      },
      (error: unknown) => {
        if (++this.#failedStarts < RESTARTS) return this.#replace();
        this.#broken = error as StreamingError;
        for (const task of this.#queue.splice(0)) task.reject(error);
      },
    );
  }

  /** Runs one item on the next free worker. */
  run(input: unknown, context: unknown): Promise<unknown> {
    if (this.#closed) return Promise.reject(new StreamingError(`${this.#owner}: the worker pool is closed`));
    if (this.#broken) return Promise.reject(this.#broken);
    return new Promise((resolve, reject) => {
      this.#queue.push({ id: this.#nextId++, input, context, resolve, reject });
      this.#dispatch();
    });
  }

  #dispatch(): void {
    while (this.#idle.length > 0 && this.#queue.length > 0) {
      const worker = this.#idle.shift()!;
      const task = this.#queue.shift()!;
      this.#busy.set(worker, task);
      try {
        worker.postMessage({ id: task.id, input: task.input, context: task.context } satisfies TaskMessage);
      } catch (error) {
        // The input cannot be cloned (a function, a class instance with private fields…).
        this.#busy.delete(worker);
        this.#idle.push(worker);
        task.reject(error);
      }
    }
  }

  /** Stops every worker; tasks still queued or running are rejected. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const error = new StreamingError(`${this.#owner}: the worker pool was closed`);
    for (const task of this.#queue.splice(0)) task.reject(error);
    for (const task of this.#busy.values()) task.reject(error);
    const workers = [...this.#idle, ...this.#busy.keys()];
    this.#idle.length = 0;
    this.#busy.clear();
    await Promise.all(workers.map((w) => w.terminate()));
  }
}
