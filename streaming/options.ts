/**
 * The option schemas of streaming steps and directory watchers (zod), with errors in Concert's
 * style: `StreamingStep.create: unknown option 'cuncurrency' (allowed: …)`.
 * @module
 * @internal
 */
import { z } from 'zod';
import { OptionError } from '../core/errors.js';

const fn = (what: string) =>
  z.custom<(...args: never[]) => unknown>((v) => typeof v === 'function', { message: `must be ${what}` });
const positiveInt = (what = 'a positive integer') =>
  z
    .number({ message: `must be ${what}` })
    .int({ message: `must be ${what}` })
    .min(1, { message: `must be ${what}` });
const nonNegative = (what: string) =>
  z
    .number({ message: `must be ${what}` })
    .min(0, { message: `must be ${what}` })
    .finite({ message: `must be ${what}` });

/** Stop criteria. */
export const stopSchema = z.strictObject({
  count: positiveInt().optional(),
  idleMs: nonNegative('a number of milliseconds ≥ 0').optional(),
  durationMs: nonNegative('a number of milliseconds ≥ 0').optional(),
  stopFile: z.union([z.string().min(1), z.literal(false)], { message: 'must be a file path or false' }).optional(),
});

/** Options of `StreamingStep.create`. */
export const stepSchema = z
  .strictObject({
    name: z.string({ message: 'must be a non-empty string' }).min(1, { message: 'must be a non-empty string' }),
    input: z.custom<unknown>(
      (v) =>
        typeof v === 'function' ||
        (typeof v === 'object' && v !== null && typeof (v as { toStepInput?: unknown }).toStepInput === 'function'),
      {
        message:
          'must be an OutputSet (another step’s output), a DirectoryWatcher or a producer (signal) => AsyncIterable',
      },
    ),
    process: fn('a function (input, context) => result').optional(),
    worker: z.union([z.string().min(1), z.instanceof(URL)], { message: 'must be a module path or a URL' }).optional(),
    workerConfig: z.unknown().optional(),
    concurrency: positiveInt().optional(),
    set: z.string({ message: 'must be a file path' }).min(1, { message: 'must be a file path' }).optional(),
    stop: stopSchema.optional(),
    onError: z.enum(['record', 'fail'], { message: 'must be "record" or "fail"' }).optional(),
    retries: z
      .number({ message: 'must be an integer ≥ 0' })
      .int({ message: 'must be an integer ≥ 0' })
      .min(0, { message: 'must be an integer ≥ 0' })
      .optional(),
    retryDelayMs: nonNegative('a number of milliseconds ≥ 0').optional(),
    record: fn('a function (value) => JSON').optional(),
    keepValues: z
      .number({ message: 'must be an integer ≥ 0' })
      .int({ message: 'must be an integer ≥ 0' })
      .min(0, { message: 'must be an integer ≥ 0' })
      .optional(),
    highWaterMark: positiveInt().optional(),
    key: fn('a function (input, index) => string').optional(),
  })
  .refine((o) => (o.process === undefined) !== (o.worker === undefined), {
    message: 'give exactly one of process: (input) => result or worker: a module path',
    path: [],
  });

/** Options of `DirectoryWatcher.create`. */
export const watcherSchema = z.strictObject({
  directory: z.string({ message: 'must be a directory path' }).min(1, { message: 'must be a directory path' }),
  pattern: z.string({ message: 'must be a glob such as "*.tif"' }).min(1).optional(),
  existing: z.boolean({ message: 'must be true or false' }).optional(),
  fileTimeoutMs: nonNegative('a number of milliseconds ≥ 0').optional(),
  pollMs: z
    .number({ message: 'must be a number of milliseconds ≥ 10' })
    .min(10, { message: 'must be a number of milliseconds ≥ 10' })
    .optional(),
});

function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'object' && value !== null) return value.constructor?.name ?? 'an object';
  return String(value);
}

/**
 * Checks `options` against `schema`.
 * @throws OptionError naming the first problem: the unknown key with the allowed ones, or the
 *   option, what it must be and what it got.
 */
export function parseWith(owner: string, schema: z.ZodType, options: unknown): void {
  if (typeof options !== 'object' || options === null || Array.isArray(options))
    throw new OptionError(`${owner}: options must be an object, got ${options === null ? 'null' : typeof options}`);
  const result = schema.safeParse(options);
  if (result.success) return;
  const issue = result.error.issues[0]!;
  let where: z.ZodType = schema;
  let value: unknown = options;
  for (const key of issue.path) value = (value as Record<PropertyKey, unknown>)?.[key];
  const path = issue.path.map(String).join('.');
  if (issue.code === 'unrecognized_keys') {
    let shape: Record<string, unknown> | undefined;
    for (const key of issue.path) {
      const s = (where as unknown as { shape?: Record<string, z.ZodType> }).shape?.[String(key)];
      where = (s as unknown as { unwrap?: () => z.ZodType })?.unwrap?.() ?? (s as z.ZodType);
    }
    shape = (where as unknown as { shape?: Record<string, unknown> }).shape;
    shape ??= (where as unknown as { def?: { in?: { shape?: Record<string, unknown> } } }).def?.in?.shape;
    const allowed = Object.keys(shape ?? {})
      .sort()
      .join(', ');
    const prefix = path ? `${path}.` : '';
    throw new OptionError(
      `${owner}: unknown option '${prefix}${issue.keys[0]}' (allowed: ${allowed
        .split(', ')
        .map((k) => prefix + k)
        .join(', ')})`,
    );
  }
  if (issue.path.length === 0) throw new OptionError(`${owner}: ${issue.message}`);
  if (value === undefined && issue.code === 'invalid_type')
    throw new OptionError(`${owner}: option '${path}' is required; it ${issue.message}`);
  throw new OptionError(`${owner}: option '${path}' ${issue.message}, got ${show(value)}`);
}

/** Checks the options of `StreamingStep.create`. @throws OptionError */
export function parseStepOptions(options: unknown): void {
  parseWith('StreamingStep.create', stepSchema, options);
}
