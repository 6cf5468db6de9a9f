/**
 * Ring buffers in POSIX shared memory, through the `shm-typed-array` package (an optional
 * dependency: where it did not install, every `shm://` use fails with a {@link TransportError}
 * saying so). One ring per connection: `slots` slots of `slotBytes` bytes after a 4 KiB header.
 *
 * A process maps each ring once (a sender and a receiver in the same process share the mapping),
 * and unmaps it only when the garbage collector has proven that no frame still views it: a ring
 * released by its users stays mapped while a borrowed frame lives, so no view ever outlives its
 * memory.
 * @module
 * @internal
 */
import { randomBytes } from 'node:crypto';
import { unlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { errorMessage } from '../../core/errors.js';
import { TransportError } from '../zmq/errors.js';
import { shmDirectory } from './endpoint.js';

/** The part of `shm-typed-array` we use. */
interface ShmModule {
  createPosix(name: string, count: number, type: 'Buffer', perm: string): Buffer | null;
  getPosix(name: string, type: 'Buffer'): Buffer | null;
  detachPosix(name: string, force: boolean): number;
}

const require = createRequire(import.meta.url);
let loaded: ShmModule | Error | undefined;

function shm(): ShmModule {
  if (loaded === undefined) {
    try {
      loaded = require('shm-typed-array') as ShmModule;
    } catch (error) {
      loaded = error instanceof Error ? error : new Error(String(error));
    }
  }
  if (loaded instanceof Error)
    throw new TransportError(
      'shared memory (shm://) needs the optional package shm-typed-array, which is not installed or did not build ' +
        `on this machine (${errorMessage(loaded)}); use a tcp:// or ipc:// endpoint instead, ` +
        'or reinstall with a C++ compiler and Python available',
    );
  return loaded;
}

/** @throws TransportError saying why `shm://` endpoints cannot be used in this process. */
export function requireShm(): void {
  shm();
}

/** True if `shm://` endpoints can be used in this process. */
export function shmAvailable(): boolean {
  try {
    shm();
    return true;
  } catch {
    return false;
  }
}

const MAGIC = 'CONCERT-SHM-RING-1';
/** Bytes before the first slot (the header holds the magic and the ring's id). */
export const RING_HEADER_BYTES = 4096;
const PAGE = 4096;

/** A mapped ring. */
export interface Ring {
  /** The POSIX shared-memory name (`/concert-…`). */
  readonly name: string;
  /** Random id, also written in the header: a receiver checks it maps the ring it was told of. */
  readonly id: string;
  readonly slots: number;
  readonly slotBytes: number;
  /** The whole mapping. */
  readonly memory: Buffer;
}

/** The bytes of one slot (a view of the mapping). */
export function slotView(ring: Ring, slot: number, bytes = ring.slotBytes): Uint8Array {
  return new Uint8Array(ring.memory.buffer, ring.memory.byteOffset + RING_HEADER_BYTES + slot * ring.slotBytes, bytes);
}

/** Slot size for frames of `bytes` bytes: whole pages. */
export function slotSizeFor(bytes: number): number {
  return Math.max(PAGE, Math.ceil(bytes / PAGE) * PAGE);
}

interface Mapping {
  memory: Buffer;
  users: number;
}

const mappings = new Map<string, Mapping>();
/** Unmaps a ring once nothing can reach its memory any more. */
const unmapper = new FinalizationRegistry<string>((name) => {
  if (loaded === undefined || loaded instanceof Error) return;
  try {
    loaded.detachPosix(name, true); // unmap, and remove the name where unlinkRing could not
  } catch {
    // already gone
  }
});

/**
 * Creates a ring (owner-only permissions) and maps it.
 * @throws TransportError if shared memory is unavailable or too small (`/dev/shm` full).
 */
export function createRing(slots: number, slotBytes: number): Ring {
  const id = randomBytes(8).toString('hex');
  const name = `/concert-${process.pid}-${id}`;
  const bytes = RING_HEADER_BYTES + slots * slotBytes;
  let memory: Buffer | null;
  try {
    memory = shm().createPosix(name, bytes, 'Buffer', '600');
  } catch (error) {
    if (error instanceof TransportError) throw error;
    throw new TransportError(
      `cannot create a shared-memory ring of ${slots} × ${slotBytes} bytes (${errorMessage(error)}): is ${shmDirectory()} large enough?`,
      undefined,
      { cause: error },
    );
  }
  if (!memory) throw new TransportError(`cannot create the shared-memory ring ${name}: the name exists`);
  memory.write(`${MAGIC} ${id} ${slots} ${slotBytes}\n`, 0, 'latin1');
  track(name, memory);
  return { name, id, slots, slotBytes, memory };
}

/**
 * Maps a ring another process (or this one) created.
 * @throws TransportError if it cannot be mapped or its header does not match.
 */
export function mapRing(name: string, id: string, slots: number, slotBytes: number): Ring {
  const known = mappings.get(name);
  let memory: Buffer;
  if (known) {
    known.users++;
    memory = known.memory;
  } else {
    let mapped: Buffer | null;
    try {
      mapped = shm().getPosix(name, 'Buffer');
    } catch (error) {
      if (error instanceof TransportError) throw error;
      throw new TransportError(
        `cannot map the shared-memory ring ${name} (${errorMessage(error)}): sender and receiver must run as the same user on one host`,
        undefined,
        { cause: error },
      );
    }
    if (!mapped) throw new TransportError(`the shared-memory ring ${name} does not exist (the sender removed it)`);
    memory = mapped;
    track(name, memory);
  }
  const ring: Ring = { name, id, slots, slotBytes, memory };
  const header = memory.toString('latin1', 0, 200).split('\n')[0];
  if (header !== `${MAGIC} ${id} ${slots} ${slotBytes}` || memory.byteLength < RING_HEADER_BYTES + slots * slotBytes) {
    releaseRing(ring);
    throw new TransportError(
      `the shared-memory ring ${name} is not the one announced (header ${JSON.stringify(header)})`,
    );
  }
  return ring;
}

function track(name: string, memory: Buffer): void {
  mappings.set(name, { memory, users: 1 });
  unmapper.register(memory.buffer, name);
}

/**
 * Removes the ring's name (Linux: the file in /dev/shm); the memory stays mapped for those who
 * have it. The sender does this once the receiver has mapped the ring, so no ring outlives its
 * processes.
 */
export function unlinkRing(ring: Ring): void {
  try {
    unlinkSync(`/dev/shm${ring.name}`);
  } catch {
    // not Linux, or already unlinked: removed when released
  }
}

/** Gives up one use of the ring; the memory is unmapped once no frame views it any more. */
export function releaseRing(ring: Ring): void {
  const m = mappings.get(ring.name);
  if (!m || m.memory !== ring.memory) return;
  if (--m.users > 0) return;
  mappings.delete(ring.name);
  unlinkRing(ring);
}
