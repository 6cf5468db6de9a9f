/**
 * Errors of the video layer.
 * @module
 */
import { ConcertError } from '../core/index.js';

/**
 * ffmpeg could not be found or started, or it failed: carries the binary's path, how it was
 * chosen, its exit code (or the signal that killed it) and its last log lines.
 */
export class FfmpegError extends ConcertError {
  override name = 'FfmpegError';
  /** The ffmpeg binary that was tried. */
  readonly path: string;
  /** The exit code, or `null` when ffmpeg did not exit by itself (killed, never started). */
  readonly exitCode: number | null;
  /** The signal that ended ffmpeg, if one did. */
  readonly signal: string | null;
  /** ffmpeg's last log lines (stderr), oldest first. */
  readonly log: readonly string[];

  constructor(
    message: string,
    details: { path: string; exitCode?: number | null; signal?: string | null; log?: readonly string[] },
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.path = details.path;
    this.exitCode = details.exitCode ?? null;
    this.signal = details.signal ?? null;
    this.log = details.log ?? [];
  }
}

/** A movie or frame export that failed for a reason other than ffmpeg itself (bad frames, a refused second export…). */
export class VideoError extends ConcertError {
  override name = 'VideoError';
}
