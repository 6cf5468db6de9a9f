/**
 * Running ffmpeg: finding the binary, spawning it with stdin backpressure, reading its raw output,
 * keeping its last log lines, and errors that name the binary tried and its exit code.
 *
 * The binary is `FFMPEG_PATH` when set (e.g. Debian's `/usr/bin/ffmpeg`), else the static build
 * shipped inside the npm package `@ffmpeg-installer/ffmpeg` (so a fresh `npm ci` has one).
 * @module
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { createRequire } from 'node:module';
import { getPriority, setPriority } from 'node:os';
import { errorMessage } from '../core/index.js';
import { FfmpegError } from './errors.js';

/** An ffmpeg binary and where its path came from. */
export interface FfmpegBinary {
  path: string;
  /** `'option'` (passed in), `'FFMPEG_PATH'` or `'@ffmpeg-installer/ffmpeg'`. */
  from: 'option' | 'FFMPEG_PATH' | '@ffmpeg-installer/ffmpeg';
}

/**
 * Finds the ffmpeg binary: `path` if given, else `$FFMPEG_PATH`, else the one in
 * `@ffmpeg-installer/ffmpeg`.
 * @throws FfmpegError naming the path tried when it is missing or not executable.
 */
export function locateFfmpeg(path?: string): FfmpegBinary {
  const binary: FfmpegBinary = path
    ? { path, from: 'option' }
    : process.env.FFMPEG_PATH
      ? { path: process.env.FFMPEG_PATH, from: 'FFMPEG_PATH' }
      : { path: installedFfmpeg(), from: '@ffmpeg-installer/ffmpeg' };
  try {
    accessSync(binary.path, constants.X_OK);
  } catch (error) {
    throw new FfmpegError(`cannot run ffmpeg at ${binary.path} (from ${binary.from}): ${errorMessage(error)}`, {
      path: binary.path,
    });
  }
  return binary;
}

function installedFfmpeg(): string {
  try {
    return (createRequire(import.meta.url)('@ffmpeg-installer/ffmpeg') as { path: string }).path;
  } catch (error) {
    // The package throws plain strings ("Could not find ffmpeg executable, tried …").
    throw new FfmpegError(
      `no ffmpeg: @ffmpeg-installer/ffmpeg has no binary for ${process.platform}-${process.arch} ` +
        `(${errorMessage(error)}); set FFMPEG_PATH to an ffmpeg binary`,
      { path: '@ffmpeg-installer/ffmpeg' },
    );
  }
}

/** Options of {@link FfmpegProcess.spawn}. */
export interface FfmpegOptions {
  /** The arguments after `ffmpeg -hide_banner -loglevel <level>`. */
  args: readonly string[];
  /** The binary (default: {@link locateFfmpeg}). */
  path?: string;
  /** What ffmpeg is doing, for messages: `encoding /data/scan.mp4`. */
  what?: string;
  /** Feed ffmpeg's stdin with {@link FfmpegProcess.write} (default false: stdin is closed). */
  stdin?: boolean;
  /** Read ffmpeg's stdout with {@link FfmpegProcess.chunks} or {@link FfmpegProcess.text} (default false). */
  stdout?: boolean;
  /** ffmpeg's `-loglevel` (default `warning`: warnings and errors only). */
  logLevel?: 'error' | 'warning' | 'info';
  /** How many log lines to keep for error messages (default 20). */
  logLines?: number;
  /** Kills ffmpeg (SIGKILL) when aborted. */
  signal?: AbortSignal;
  /**
   * Run ffmpeg this much nicer than this process (e.g. 10; capped at 19): for work that must
   * never take CPU from the acquisition, such as a time-lapse. Default 0.
   */
  niceness?: number;
}

/**
 * One ffmpeg process. Writes to its stdin wait while the pipe is full (backpressure), so memory
 * stays bounded however slowly ffmpeg encodes; a failure of ffmpeg at any point rejects the
 * pending write and {@link wait} with one {@link FfmpegError} carrying the exit code and the last
 * log lines.
 * @example
 * ```ts
 * const ffmpeg = FfmpegProcess.spawn({ stdin: true, what: 'encoding out.mp4',
 *   args: ['-f', 'rawvideo', '-pix_fmt', 'gray', '-video_size', '64x48', '-i', 'pipe:0', 'out.mp4'] });
 * for (const image of images) await ffmpeg.write(image);
 * await ffmpeg.end();   // closes stdin and waits for a clean exit
 * ```
 */
export class FfmpegProcess {
  readonly binary: FfmpegBinary;
  readonly #child: ChildProcess;
  readonly #what: string;
  readonly #log: string[] = [];
  readonly #logLines: number;
  #partial = '';
  #exit: { code: number | null; signal: string | null; error?: Error } | undefined;
  readonly #exited: Promise<void>;
  #killedOnPurpose = false;
  #stdinError: Error | undefined;

  private constructor(binary: FfmpegBinary, options: FfmpegOptions) {
    this.binary = binary;
    this.#what = options.what ?? 'running';
    this.#logLines = options.logLines ?? 20;
    const args = ['-hide_banner', '-loglevel', options.logLevel ?? 'warning', ...(options.stdin ? [] : ['-nostdin'])];
    this.#child = spawn(binary.path, [...args, ...options.args], {
      stdio: [options.stdin ? 'pipe' : 'ignore', options.stdout ? 'pipe' : 'ignore', 'pipe'],
    });
    if (options.niceness && this.#child.pid !== undefined) lowerPriority(this.#child.pid, options.niceness);
    this.#child.stderr!.setEncoding('utf8');
    this.#child.stderr!.on('data', (text: string) => this.#collect(text));
    // EPIPE when ffmpeg exits early: the exit status tells why; never an unhandled 'error'.
    this.#child.stdin?.on('error', (error) => (this.#stdinError ??= error));
    this.#exited = new Promise<void>((resolve) => {
      this.#child.once('error', (error) => {
        this.#exit ??= { code: null, signal: null, error };
        resolve();
      });
      this.#child.once('close', (code, signal) => {
        this.#exit ??= { code, signal };
        resolve();
      });
    });
    const { signal } = options;
    if (signal) {
      const onAbort = () => this.kill();
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
      void this.#exited.then(() => signal.removeEventListener('abort', onAbort));
    }
  }

  /**
   * Starts ffmpeg with `options.args`.
   * @throws FfmpegError if no ffmpeg binary can be found.
   */
  static spawn(options: FfmpegOptions): FfmpegProcess {
    return new FfmpegProcess(locateFfmpeg(options.path), options);
  }

  /** The process id (undefined if it could not be started). */
  get pid(): number | undefined {
    return this.#child.pid;
  }

  /** ffmpeg's last log lines, oldest first. */
  get log(): readonly string[] {
    return this.#partial ? [...this.#log, this.#partial] : [...this.#log];
  }

  /** True once the process has ended. */
  get exited(): boolean {
    return this.#exit !== undefined;
  }

  /**
   * Writes bytes to ffmpeg's stdin; resolves when the pipe took them (waits while it is full).
   * @throws FfmpegError if ffmpeg has ended (with its exit code and log).
   */
  async write(bytes: Uint8Array): Promise<void> {
    const stdin = this.#child.stdin;
    if (!stdin) throw new TypeError('FfmpegProcess.write: spawned without { stdin: true }');
    if (this.#exit || this.#stdinError || stdin.destroyed) throw await this.#failure();
    if (stdin.write(bytes)) return;
    await new Promise<void>((resolve) => {
      const done = () => {
        stdin.off('drain', done);
        stdin.off('close', done);
        resolve();
      };
      stdin.on('drain', done);
      stdin.on('close', done);
    });
    if (this.#stdinError || (stdin.destroyed && !stdin.writableFinished)) throw await this.#failure();
  }

  /**
   * Writes `chunks` to ffmpeg's stdin, in order, and resolves once every one of them was handed
   * to the pipe (not merely buffered here), so their memory may be reused.
   * @throws FfmpegError if ffmpeg has ended (with its exit code and log).
   */
  async writeFlushed(chunks: readonly Uint8Array[]): Promise<void> {
    const stdin = this.#child.stdin;
    if (!stdin) throw new TypeError('FfmpegProcess.writeFlushed: spawned without { stdin: true }');
    if (this.#exit || this.#stdinError || stdin.destroyed) throw await this.#failure();
    const flushed = await new Promise<boolean>((resolve) => {
      const close = () => resolve(false);
      stdin.once('close', close);
      chunks.forEach((chunk, k) =>
        stdin.write(chunk, (error) => {
          if (k < chunks.length - 1 && !error) return;
          stdin.off('close', close);
          resolve(!error);
        }),
      );
    });
    if (!flushed || this.#stdinError) throw await this.#failure();
  }

  /** Closes stdin (if open) and waits for ffmpeg to exit. @throws FfmpegError unless it exits with 0. */
  async end(): Promise<void> {
    const stdin = this.#child.stdin;
    if (stdin && !stdin.destroyed && !stdin.writableEnded) stdin.end();
    await this.wait();
  }

  /** Waits for ffmpeg to exit. @throws FfmpegError unless it exited with 0. */
  async wait(): Promise<void> {
    await this.#exited;
    const exit = this.#exit!;
    if (exit.code === 0 && !exit.error) return;
    throw await this.#failure();
  }

  /**
   * ffmpeg's stdout in chunks of exactly `size` bytes (e.g. one raw frame each); a trailing
   * partial chunk is an error. Ends when ffmpeg closes stdout; then call {@link wait}.
   * @throws FfmpegError if stdout ends inside a chunk.
   */
  async *chunks(size: number): AsyncGenerator<Buffer, void, undefined> {
    const stdout = this.#stdout('chunks');
    let pending: Buffer[] = [];
    let have = 0;
    for await (const data of stdout as AsyncIterable<Buffer>) {
      pending.push(data);
      have += data.length;
      if (have < size) continue;
      let all = pending.length === 1 ? pending[0]! : Buffer.concat(pending, have);
      let at = 0;
      while (have - at >= size) {
        // A fresh buffer per chunk: consumers may keep it, and its offset 0 suits every typed array.
        yield Buffer.from(all.subarray(at, at + size));
        at += size;
      }
      all = all.subarray(at);
      have = all.length;
      pending = have ? [all] : [];
    }
    if (have > 0) {
      await this.#exited;
      throw new FfmpegError(
        `ffmpeg (${this.binary.path}) ${this.#what}: its output ended inside a chunk (${have} of ${size} bytes)`,
        this.#details(),
      );
    }
  }

  /** All of ffmpeg's stdout as text (for `-progress pipe:1`, `-f framemd5`, …). */
  async text(): Promise<string> {
    const stdout = this.#stdout('text');
    stdout.setEncoding('utf8');
    let out = '';
    for await (const data of stdout as AsyncIterable<string>) out += data;
    return out;
  }

  /** Kills ffmpeg (default SIGKILL); {@link wait} then rejects. Idempotent. */
  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    if (this.#exit) return;
    this.#killedOnPurpose = true;
    this.#child.kill(signal);
  }

  #stdout(method: string) {
    const stdout = this.#child.stdout;
    if (!stdout) throw new TypeError(`FfmpegProcess.${method}: spawned without { stdout: true }`);
    return stdout;
  }

  #collect(text: string): void {
    const lines = (this.#partial + text).split(/\r\n|\r|\n/);
    this.#partial = lines.pop()!;
    for (const line of lines) if (line.trim()) this.#log.push(line);
    if (this.#log.length > this.#logLines) this.#log.splice(0, this.#log.length - this.#logLines);
  }

  #details() {
    return { path: this.binary.path, exitCode: this.#exit?.code, signal: this.#exit?.signal, log: this.log };
  }

  /** The error describing how ffmpeg ended (waits for the exit first). */
  async #failure(): Promise<FfmpegError> {
    await this.#exited;
    const exit = this.#exit!;
    const where = `ffmpeg (${this.binary.path}${this.binary.from === 'option' ? '' : `, from ${this.binary.from}`})`;
    const log = this.log;
    const tail = log.length ? `:\n  ${log.slice(-8).join('\n  ')}` : ' (no log output)';
    let what: string;
    if (exit.error) what = `could not be started: ${exit.error.message}`;
    else if (exit.signal) what = `was killed by ${exit.signal}${this.#killedOnPurpose ? ' (cancelled)' : ''}`;
    else if (exit.code === 0) what = `closed its input early (${this.#stdinError?.message ?? 'stdin closed'})`;
    else what = `failed with exit code ${exit.code}`;
    return new FfmpegError(`${where} ${what} while ${this.#what}${tail}`, this.#details(), {
      cause: exit.error ?? this.#stdinError,
    });
  }
}

/**
 * Makes process `pid` `by` nicer than this one (capped at 19). ffmpeg has not read a frame yet
 * when this runs, so the encoder threads it starts later inherit the priority.
 */
function lowerPriority(pid: number, by: number): void {
  try {
    setPriority(pid, Math.min(19, getPriority() + by));
  } catch {
    // Not allowed or already gone: it runs at our priority (the exit status tells the rest).
  }
}

/**
 * Runs ffmpeg to completion without input on stdin and returns its stdout (when `stdout` is set).
 * @throws FfmpegError unless ffmpeg exits with 0.
 */
export async function runFfmpeg(options: Omit<FfmpegOptions, 'stdin'>): Promise<string> {
  const ffmpeg = FfmpegProcess.spawn({ ...options, stdin: false });
  const out = options.stdout ? ffmpeg.text() : Promise.resolve('');
  const [text] = await Promise.all([out, ffmpeg.wait()]);
  return text;
}

/**
 * Counts the frames of the first video stream of `file`: `'decode'` decodes every frame (a movie
 * that cannot be read completely does not count as complete); `'demux'` only counts the frames in
 * the container (fast: no decoding).
 * @throws FfmpegError if ffmpeg cannot read the file.
 */
export async function countVideoFrames(
  file: string,
  options: { path?: string; signal?: AbortSignal; how?: 'decode' | 'demux' } = {},
): Promise<number> {
  const { how = 'decode', ...rest } = options;
  const codec = how === 'demux' ? ['-c', 'copy'] : ['-vsync', '0'];
  const progress = await runFfmpeg({
    ...rest,
    what: `counting the frames of ${file}`,
    stdout: true,
    logLevel: 'error',
    args: ['-i', file, '-map', '0:v:0', ...codec, '-f', 'null', '-progress', 'pipe:1', '-nostats', '-'],
  });
  const counts = [...progress.matchAll(/^frame=(\d+)$/gm)];
  return counts.length ? Number(counts[counts.length - 1]![1]) : 0;
}
