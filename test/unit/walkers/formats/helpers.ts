/** Shared helpers of the file-format tests: temp dirs, external tools, test frames. */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { arrayConstructor, makeFrame } from '../../../../core/frame.js';
import type { DType, Frame } from '../../../../core/frame.js';

const exec = promisify(execFile);

/** Directory of these tests (where the Python checkers live). */
export const HERE = fileURLToPath(new URL('.', import.meta.url));

/** Debian's Python, which has tifffile and h5py (the `python3` on PATH may not). */
export const PYTHON = '/usr/bin/python3';

/** A fresh temp dir; call `remove()` in afterEach. */
export async function tempDir(): Promise<{ path: string; remove(): Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), 'concert-formats-'));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

/** Runs a command; resolves with stdout, rejects with stderr in the message. */
/** A fresh temporary directory for each test of the calling `describe` block, removed after it. */
export function useTempDir(): { readonly path: string } {
  let dir: Awaited<ReturnType<typeof tempDir>> | undefined;
  beforeEach(async () => {
    dir = await tempDir();
  });
  afterEach(async () => {
    await dir?.remove();
  });
  return {
    get path() {
      return dir!.path;
    },
  };
}

export async function run(command: string, args: string[], timeout = 45_000): Promise<string> {
  try {
    const { stdout } = await exec(command, args, { timeout, maxBuffer: 64 << 20 });
    return stdout;
  } catch (error) {
    const e = error as { stderr?: string; message: string };
    throw new Error(`${command} ${args.join(' ')} failed: ${e.stderr || e.message}`, { cause: error });
  }
}

const available = new Map<string, Promise<string | undefined>>();

/** undefined if the tool works, otherwise the reason it cannot be used. Cached. */
export function missing(tool: 'tiffinfo' | 'tifffile' | 'h5py' | 'h5dump' | 'h5ls'): Promise<string | undefined> {
  let result = available.get(tool);
  if (result === undefined) {
    const probe: [string, string[]] =
      tool === 'tifffile' || tool === 'h5py'
        ? [PYTHON, ['-c', `import ${tool}`]]
        : [tool, tool === 'tiffinfo' ? ['-h'] : ['--version']];
    result = exec(...probe, { timeout: 15_000 }).then(
      () => undefined,
      (error: { code?: unknown; stderr?: string }) =>
        // tiffinfo -h exits 255 after printing usage: it exists.
        error.code === 'ENOENT'
          ? `${tool} is not installed (${probe[0]} not found)`
          : tool === 'tiffinfo'
            ? undefined
            : `${tool} is not usable: ${error.stderr ?? String(error.code)}`,
    );
    available.set(tool, result);
  }
  return result;
}

/** Skips the running test, printing why, when `tool` is missing. */
export async function need(context: Mocha.Context, tool: Parameters<typeof missing>[0]): Promise<void> {
  const reason = await missing(tool);
  if (reason !== undefined) {
    console.log(`      skipped: ${reason}`);
    context.skip();
  }
}

/** Every dtype, with a value range that exercises its extremes. */
export const EXTREMES: Record<DType, number[]> = {
  uint8: [0, 1, 127, 255],
  int8: [-128, -1, 0, 127],
  uint16: [0, 1, 4095, 65535],
  int16: [-32768, -1, 0, 32767],
  uint32: [0, 1, 2 ** 31, 2 ** 32 - 1],
  int32: [-(2 ** 31), -1, 0, 2 ** 31 - 1],
  float32: [-1.5, 0, 3.25e38, Number.NaN],
  float64: [-1e300, 0, Math.PI, Number.POSITIVE_INFINITY],
};

/** A test frame of `dtype` whose pixels mix the dtype's extremes with a ramp, plus metadata. */
export function testFrame(
  dtype: DType,
  height: number,
  width: number,
  frameNumber = 0,
  extra: Record<string, unknown> = {},
): Frame {
  const data = new (arrayConstructor(dtype))(height * width);
  const ext = EXTREMES[dtype];
  for (let i = 0; i < data.length; i++) data[i] = i < ext.length ? ext[i]! : (i * 7 + frameNumber) % 120;
  return makeFrame(data, [height, width], { frameNumber, timestamp: 1_700_000_000_000 + frameNumber, ...extra });
}

/** The frame's pixels as little-endian bytes, base64 (the checkers' encoding). */
export function base64Of(frame: Frame): string {
  return Buffer.from(frame.data.buffer, frame.data.byteOffset, frame.data.byteLength).toString('base64');
}
