/**
 * Reading a conductor configuration: TOML, YAML or JSON by the file's extension, checked against
 * {@link CONDUCTOR_CONFIG}. Every problem is listed at once, each with its path and what is
 * allowed (`cameras.top.frameRate: 120 is above the maximum 90`); unknown keys are problems too,
 * with the closest known key. Nothing may be started from a configuration with a problem.
 * @module
 */
import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { parse as parseToml } from 'smol-toml';
import { parse as parseYaml } from 'yaml';
import { closest, describe, errorMessage, schemaAt, show, valueAt, z } from '../../core/index.js';
import { ConfigError } from '../errors.js';
import { CONDUCTOR_CONFIG, crossCheck, type ConductorConfig, type Violation } from './schema.js';

/** The file formats a configuration may be written in. */
export type ConfigFormat = 'toml' | 'yaml' | 'json';

const EXTENSIONS: Record<string, ConfigFormat> = {
  '.toml': 'toml',
  '.yaml': 'yaml',
  '.yml': 'yaml',
  '.json': 'json',
};

/**
 * The format of `path` from its extension.
 * @throws ConfigError for any other extension (RCC files are converted first).
 */
export function configFormatOf(path: string): ConfigFormat {
  const format = EXTENSIONS[extname(path).toLowerCase()];
  if (!format)
    throw new ConfigError(path, [
      {
        path: '',
        message:
          `unknown configuration format '${extname(path) || '(no extension)'}' (allowed: .toml, .yaml, .yml, .json; ` +
          'an RCC ConfigObj file: concert conductor convert FILE out.toml)',
      },
    ]);
  return format;
}

/**
 * Parses configuration text (without checking it).
 * @throws ConfigError with the line and column of a syntax error.
 */
export function parseConfigText(text: string, format: ConfigFormat, source = `(${format})`): unknown {
  try {
    if (format === 'toml') return parseToml(text);
    if (format === 'yaml') return parseYaml(text, { uniqueKeys: true });
    return JSON.parse(text);
  } catch (error) {
    throw new ConfigError(source, [{ path: '', message: syntaxMessage(error, text, format) }], { cause: error });
  }
}

function syntaxMessage(error: unknown, text: string, format: ConfigFormat): string {
  const e = error as { line?: number; column?: number; linePos?: { line: number; col: number }[]; message?: string };
  let line = e.line ?? e.linePos?.[0]?.line;
  let column = e.column ?? e.linePos?.[0]?.col;
  let message = errorMessage(error).split('\n')[0]!;
  if (format === 'json') {
    const at = /position (\d+)/.exec(message);
    if (at) {
      const before = text.slice(0, Number(at[1]));
      line = before.split('\n').length;
      column = before.length - before.lastIndexOf('\n');
    }
  }
  message = message.replace(/^Invalid TOML document: /, '').replace(/ at line \d+, column \d+:?$/, '');
  return `${format.toUpperCase()} syntax error${line ? ` at line ${line}${column ? `, column ${column}` : ''}` : ''}: ${message}`;
}

/**
 * Checks a parsed configuration and fills in the defaults.
 * @throws ConfigError listing every violation.
 */
export function validateConfig(raw: unknown, source = 'configuration'): ConductorConfig {
  const violations = configViolations(raw);
  if (violations.length) throw new ConfigError(source, violations);
  return CONDUCTOR_CONFIG.parse(raw);
}

/** Every violation of `raw`, in the order of the file (empty when it is valid). */
export function configViolations(raw: unknown): Violation[] {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    return [{ path: '', message: `a configuration must be a table of sections, got ${show(raw)}` }];
  const result = CONDUCTOR_CONFIG.safeParse(raw);
  const out = result.success ? [] : result.error.issues.flatMap((issue) => describeIssue(issue, raw));
  out.push(...crossCheck(raw));
  const seen = new Set<string>();
  return out.filter((v) => {
    const key = `${v.path}\0${v.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/**
 * Reads, parses and checks a configuration file.
 * @throws ConfigError for an unreadable file, a syntax error or any violation (all of them).
 */
export async function loadConfig(path: string): Promise<ConductorConfig> {
  const format = configFormatOf(path);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new ConfigError(path, [{ path: '', message: `cannot read the file: ${errorMessage(error)}` }], {
      cause: error,
    });
  }
  return validateConfig(parseConfigText(text, format, path), path);
}

function describeIssue(issue: z.core.$ZodIssue, raw: unknown, prefix: readonly PropertyKey[] = []): Violation[] {
  const pathKeys = [...prefix, ...issue.path];
  const path = pathKeys.map(String).join('.');
  const value = valueAt(raw, pathKeys);
  const schema = schemaAt(CONDUCTOR_CONFIG, pathKeys);
  switch (issue.code) {
    case 'unrecognized_keys': {
      const allowed = allowedKeys(schemaAt(CONDUCTOR_CONFIG, pathKeys));
      return issue.keys.map((key) => {
        const near = closest(key, allowed);
        return {
          path: path ? `${path}.${key}` : key,
          message: `unknown key${near ? `, did you mean '${near}'?` : ''} (allowed${path ? ` in ${path}` : ''}: ${allowed.join(', ')})`,
        };
      });
    }
    case 'invalid_key': {
      const key = String(pathKeys[pathKeys.length - 1]);
      const inner = issue.issues[0];
      const words =
        inner?.code === 'invalid_format' || inner?.code === 'custom' ? inner.message : 'is not a valid name';
      return [
        { path, message: `the name ${JSON.stringify(key)} is not allowed: ${words.replace(/^a camera name /, '')}` },
      ];
    }
    case 'too_big': {
      if (issue.origin === 'number' || issue.origin === 'int')
        return [{ path, message: `${show(value)} is above the maximum ${String(issue.maximum)}` }];
      if (issue.origin === 'string') return [{ path, message: `is longer than ${String(issue.maximum)} characters` }];
      return [{ path, message: `must be ${tupleWords(schema)}, got ${show(value)}` }];
    }
    case 'too_small': {
      if (issue.origin === 'number' || issue.origin === 'int')
        return [{ path, message: `${show(value)} is below the minimum ${String(issue.minimum)}` }];
      if (issue.origin === 'string') return [{ path, message: 'must not be empty' }];
      return [{ path, message: `must be ${tupleWords(schema)}, got ${show(value)}` }];
    }
    case 'invalid_type': {
      if (value === undefined) return [{ path, message: `is required (${describe(schema)})` }];
      return [{ path, message: `must be ${tupleWords(schema)}, got ${show(value)}` }];
    }
    case 'invalid_value':
      return [{ path, message: `must be ${describe(schema)}, got ${show(value)}` }];
    case 'invalid_union':
      return [{ path, message: `must be ${describe(schema)}, got ${show(value)}` }];
    case 'invalid_format':
    case 'custom': {
      const own = issue.message && issue.message !== 'Invalid input' ? issue.message : `must be ${describe(schema)}`;
      return [
        { path, message: `${own.replace(/^general\.\w+ /, '')}${/, got /.test(own) ? '' : `, got ${show(value)}`}` },
      ];
    }
    default:
      return [{ path, message: `must be ${tupleWords(schema)}, got ${show(value)}` }];
  }
}

function tupleWords(schema: z.ZodType | undefined): string {
  const words = describe(schema);
  if (words !== 'a valid value') return words;
  let s = schema;
  while (s instanceof z.ZodOptional || s instanceof z.ZodDefault) s = s.unwrap() as z.ZodType;
  if (!(s instanceof z.ZodTuple)) return describe(schema);
  const items = s.def.items as z.ZodType[];
  return `a list of ${items.length} (${items.map(describe).join('; ')})`;
}

function allowedKeys(schema: z.ZodType | undefined): string[] {
  let s = schema;
  while (s instanceof z.ZodOptional || s instanceof z.ZodDefault) s = s.unwrap() as z.ZodType;
  return s instanceof z.ZodObject ? Object.keys(s.shape) : [];
}
