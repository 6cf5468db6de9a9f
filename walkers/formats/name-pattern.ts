/**
 * File-name patterns with one Python-format-like placeholder for the file index:
 * `frame_{:06}.tif`, `frame_{:>06}.tif`, `scan_{}.tif`, `{0:4}.tif`, `img_{:x<5d}.tif`.
 * @module
 */
import { OptionError } from '../../core/errors.js';

/** A parsed file-name pattern. */
export interface NamePattern {
  /** The pattern as given. */
  readonly pattern: string;
  /** The file name for `index` (a non-negative integer). */
  format(index: number): string;
  /** Whether `name` is a file name this pattern produces (for any index). */
  matches(name: string): boolean;
}

// [[fill]align][0][width][d], the subset of Python's format spec that makes sense for an index.
const SPEC = /^(?:([^{}]?)([<>=^]))?(0)?(\d+)?d?$/;

/**
 * Parses a pattern holding exactly one placeholder `{}`, `{0}` or `{:spec}` / `{0:spec}`
 * (`{{` and `}}` are literal braces).
 * @throws OptionError if the pattern has no placeholder, more than one, or one it cannot format.
 * @example
 * ```ts
 * parseNamePattern('frame_{:06}.tif').format(42); // 'frame_000042.tif'
 * ```
 */
export function parseNamePattern(pattern: string): NamePattern {
  const parts: string[] = [''];
  let spec: string | undefined;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if ((c === '{' || c === '}') && pattern[i + 1] === c) {
      parts[parts.length - 1] += c;
      i++;
    } else if (c === '{') {
      const close = pattern.indexOf('}', i);
      if (close < 0) throw new OptionError(`file name pattern '${pattern}': unmatched '{'`);
      const field = /^0?(?::(.*))?$/s.exec(pattern.slice(i + 1, close));
      if (field === null)
        throw new OptionError(`file name pattern '${pattern}': bad placeholder '${pattern.slice(i, close + 1)}'`);
      if (spec !== undefined) throw new OptionError(`file name pattern '${pattern}' has more than one placeholder`);
      spec = field[1] ?? '';
      parts.push('');
      i = close;
    } else if (c === '}') {
      throw new OptionError(`file name pattern '${pattern}': single '}' (write '}}' for a literal brace)`);
    } else {
      parts[parts.length - 1] += c;
    }
  }
  if (spec === undefined)
    throw new OptionError(
      `file name pattern '${pattern}' has no placeholder for the file index, e.g. 'frame_{:06}.tif'`,
    );
  const parsed = SPEC.exec(spec);
  if (parsed === null)
    throw new OptionError(`file name pattern '${pattern}': cannot format an index with '{:${spec}}'`);
  const [, fillGiven, alignGiven, zero, widthText] = parsed;
  const fill = fillGiven || (zero ? '0' : ' ');
  const align = alignGiven ?? '>';
  const width = widthText === undefined ? 0 : Number(widthText);
  const [prefix, suffix] = parts as [string, string];
  if (/[/\\\0]/.test(prefix + suffix) || fill === '/')
    throw new OptionError(`file name pattern '${pattern}' must name a file, without '/'`);
  const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const regexp = new RegExp(`^${escape(prefix)}${escape(fill)}*\\d+${escape(fill)}*${escape(suffix)}$`);
  return {
    pattern,
    format(index: number): string {
      if (!Number.isSafeInteger(index) || index < 0)
        throw new OptionError(`file index must be a non-negative integer, got ${index}`);
      const digits = String(index);
      const pad = Math.max(0, width - digits.length);
      const left = align === '<' ? 0 : align === '^' ? Math.floor(pad / 2) : pad;
      return prefix + fill.repeat(left) + digits + fill.repeat(pad - left) + suffix;
    },
    matches: (name: string) => regexp.test(name),
  };
}

/** The file name of `index` under `pattern`: `formatFileName('frame_{:06}.tif', 7)` is `'frame_000007.tif'`. */
export function formatFileName(pattern: string, index: number): string {
  return parseNamePattern(pattern).format(index);
}
