/**
 * Worker-thread entry of the web viewer: one thread per process runs the {@link ViewerServer} of
 * every `WebViewer` (each message carries the viewer's `id`), so a second viewer starts without
 * loading the thread again.
 * @module
 * @internal
 */
import { parentPort } from 'node:worker_threads';
import { warmUpDisplay } from './display.js';
import { ViewerServer, type Panel, type ServerCounts, type ServerImage, type ServerOptions } from './server.js';
import { errorMessage } from '../../../core/index.js';
import { threadCpuMs } from '../../../core/thread-cpu.js';

/** Session thread → worker. */
export type ToWorker = { id: number } & (
  | { type: 'listen'; options: ServerOptions }
  | { type: 'image'; image: ServerImage; pooled: boolean }
  | { type: 'status' | 'stream'; [key: string]: unknown }
  | { type: 'close' }
);

/** Worker → session thread. */
export type FromWorker = { id: number } & (
  | { type: 'listening'; address: string; family: string; port: number }
  | { type: 'failed'; message: string }
  | {
      /** What the server had to say in one turn of its event loop, in one message. */
      type: 'update';
      /** Pooled buffers no longer needed (first: a frame asked for below may use them). */
      release: SharedArrayBuffer[];
      /** The newest counters, if they changed. */
      counts?: ServerCounts;
      /** [frame → drawn, sent → received, received → drawn] of camera images acked. */
      latency: [number, number, number][];
      /** Panels a page waits for. */
      want: Panel[];
    }
  | { type: 'closed' }
);

const port = parentPort!;
warmUpDisplay();
const post = (message: FromWorker) => port.postMessage(message);
const servers = new Map<number, ViewerServer>();
const pooled = new WeakSet<ServerImage>();

type Update = Extract<FromWorker, { type: 'update' }>;
/** Updates gathered per viewer until the current callback ends (one message per turn, not one per event). */
const updates = new Map<number, Update>();

function update(id: number): Update {
  let u = updates.get(id);
  if (!u) {
    if (updates.size === 0) queueMicrotask(flush);
    updates.set(id, (u = { id, type: 'update', release: [], latency: [], want: [] }));
  }
  return u;
}

function flush(): void {
  const threadMs = threadCpuMs();
  for (const u of updates.values()) {
    if (u.counts) u.counts = { ...u.counts, threadMs };
    post(u);
  }
  updates.clear();
}

async function listen(id: number, options: ServerOptions): Promise<void> {
  try {
    const server = await ViewerServer.listen(options, {
      onWant: (panel) => void update(id).want.push(panel),
      onRelease: (image) => {
        if (pooled.has(image)) update(id).release.push(image.data.buffer as SharedArrayBuffer);
      },
      onCounts: (counts, latency) => {
        const u = update(id);
        u.counts = counts; // copied when posted
        if (latency) u.latency.push(latency);
      },
    });
    servers.set(id, server);
    post({
      id,
      type: 'listening',
      address: server.address.address,
      family: server.address.family,
      port: server.address.port,
    });
  } catch (error) {
    post({ id, type: 'failed', message: errorMessage(error) });
  }
}

port.on('message', (m: ToWorker) => {
  if (m.type === 'listen') return void listen(m.id, m.options);
  const server = servers.get(m.id);
  if (m.type === 'close') {
    servers.delete(m.id);
    void (server?.close() ?? Promise.resolve()).then(() => post({ id: m.id, type: 'closed' }));
  } else if (m.type === 'image') {
    if (m.pooled) pooled.add(m.image);
    server?.put(m.image);
  } else {
    server?.remember(m);
  }
});
