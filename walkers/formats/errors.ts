/**
 * Errors of the storage layer (file formats, and later the walkers).
 * @module
 */
import { ConcertError } from '../../core/errors.js';

/**
 * A file could not be created, written, closed or read: permission denied, disk full, a file that
 * already exists, a corrupt or unsupported file. The message names the file and the cause; the
 * original error (with its `code`, e.g. `ENOSPC`, `EACCES`) is the `cause`.
 */
export class StorageError extends ConcertError {
  override name = 'StorageError';
  /** The file or directory concerned, when there is one. */
  readonly path: string | undefined;
  /** The system error code of the cause (`ENOSPC`, `EACCES`, …), when there is one. */
  readonly code: string | undefined;

  constructor(message: string, options: ErrorOptions & { path?: string } = {}) {
    super(message, options);
    this.path = options.path;
    const code = (options.cause as { code?: unknown } | undefined)?.code;
    this.code = typeof code === 'string' ? code : undefined;
  }
}

/**
 * Wraps a failed file operation in a {@link StorageError} naming the action and the file, e.g.
 * `cannot write /data/frame_000001.tif.partial: ENOSPC: no space left on device`.
 * A `StorageError` passes through unchanged.
 * @internal
 */
export function storageError(action: string, path: string, cause: unknown): StorageError {
  if (cause instanceof StorageError) return cause;
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new StorageError(`cannot ${action} ${path}: ${reason}`, { path, cause });
}
