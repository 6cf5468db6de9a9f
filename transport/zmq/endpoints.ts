/**
 * Endpoint helpers: loopback addresses, free TCP ports and unique `ipc://` paths.
 *
 * Binding defaults to `127.0.0.1`, never to all interfaces (`*`) unless a caller asks for it.
 * @module
 */
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';

/** Default host that senders and servers bind to. */
export const DEFAULT_HOST = '127.0.0.1';

/**
 * A TCP endpoint string. Without a port, ZeroMQ picks a free one at bind time (`tcp://host:*`);
 * read the real endpoint back from the socket (`ZmqSender.endpoint`).
 * @example
 * ```ts
 * tcpEndpoint(5555);            // 'tcp://127.0.0.1:5555'
 * tcpEndpoint();                // 'tcp://127.0.0.1:*'
 * tcpEndpoint(5555, '0.0.0.0'); // all interfaces, only when asked
 * ```
 */
export function tcpEndpoint(port?: number, host: string = DEFAULT_HOST): string {
  return `tcp://${host.includes(':') ? `[${host}]` : host}:${port ?? '*'}`;
}

/**
 * Finds a free TCP port on `host` by binding port 0 and closing again. Another process can
 * take the port before you bind it: prefer binding `tcp://127.0.0.1:*` where you can.
 */
export function freePort(host: string = DEFAULT_HOST): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

let counter = 0;

/**
 * A unique `ipc://` endpoint in the temporary directory (or `dir`), short enough for the
 * 107-byte Unix socket path limit. The socket file is removed by ZeroMQ when the binding socket closes.
 */
export function uniqueIpcEndpoint(prefix = 'concert', dir: string = tmpdir()): string {
  const name = `${prefix}-${process.pid}-${++counter}-${randomBytes(3).toString('hex')}.sock`;
  return `ipc://${join(dir, name)}`;
}
