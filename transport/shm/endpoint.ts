/**
 * `shm://NAME` endpoints: a shared-memory stream between two processes on one host. The name
 * gives the doorbell socket (`/dev/shm/concert-NAME.sock`, or in the temporary directory where
 * there is no `/dev/shm`); the ring buffers themselves get fresh random names per connection.
 * @module
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OptionError } from '../../core/errors.js';

/** The scheme of shared-memory endpoints. */
export const SHM_SCHEME = 'shm://';

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$/;

/** What an `shm://` endpoint stands for on this host. */
export interface ShmAddress {
  /** The endpoint, `shm://NAME`. */
  endpoint: string;
  name: string;
  /** The Unix socket the sender listens on. */
  socket: string;
}

/** True for `shm://…` endpoints. */
export function isShmEndpoint(endpoint: unknown): endpoint is string {
  return typeof endpoint === 'string' && endpoint.startsWith(SHM_SCHEME);
}

/** Where the doorbell sockets live: `/dev/shm` (Linux), else the temporary directory. */
export function shmDirectory(): string {
  return existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
}

/**
 * Parses `shm://NAME`.
 * @throws OptionError for another scheme, a host part or a bad name (letters, digits, `.`, `_`, `-`; at most 80).
 */
export function parseShmEndpoint(endpoint: string): ShmAddress {
  if (!isShmEndpoint(endpoint))
    throw new OptionError(`not a shared-memory endpoint: ${JSON.stringify(endpoint)} (expected shm://NAME)`);
  const name = endpoint.slice(SHM_SCHEME.length);
  if (!NAME.test(name))
    throw new OptionError(
      `${endpoint}: the name must be 1–80 letters, digits, '.', '_' or '-' ` +
        '(shm:// has no host part: shared memory works only between processes on one host)',
    );
  return { endpoint, name, socket: join(shmDirectory(), `concert-${name}.sock`) };
}

let counter = 0;

/** A fresh `shm://` endpoint name, e.g. for tests and benchmarks. */
export function uniqueShmEndpoint(prefix = 'concert'): string {
  return `${SHM_SCHEME}${prefix}-${process.pid}-${++counter}-${randomBytes(3).toString('hex')}`;
}
