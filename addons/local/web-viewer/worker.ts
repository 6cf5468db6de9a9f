/**
 * Worker-thread entry of the web viewer: one thread per process runs the {@link ViewerServer} of
 * every `WebViewer` (each message carries the viewer's `id`), so a second viewer starts without
 * loading the thread again.
 * @module
 * @internal
 */
import { parentPort } from 'node:worker_threads';
import { ViewerServer, type Panel, type ServerCounts, type ServerImage, type ServerOptions } from './server.js';
import { errorMessage } from '../../../core/index.js';

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
  | { type: 'want'; panel: Panel }
  | { type: 'release'; buffer: SharedArrayBuffer }
  | { type: 'counts'; counts: ServerCounts; latency?: [number, number, number] }
  | { type: 'closed' }
);

const port = parentPort!;
const post = (message: FromWorker) => port.postMessage(message);
const servers = new Map<number, ViewerServer>();
const pooled = new WeakSet<ServerImage>();

async function listen(id: number, options: ServerOptions): Promise<void> {
  try {
    const server = await ViewerServer.listen(options, {
      onWant: (panel) => post({ id, type: 'want', panel }),
      onRelease: (image) => {
        if (pooled.has(image)) post({ id, type: 'release', buffer: image.data.buffer as SharedArrayBuffer });
      },
      onCounts: (counts, latency) => post({ id, type: 'counts', counts, latency }),
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
