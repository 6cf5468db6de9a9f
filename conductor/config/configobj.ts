/**
 * A reader of ConfigObj files (the INI dialect of Python's `configobj`, which RPi Camera Colony
 * uses): `[section]`, `[[subsection]]` nested by the number of brackets, `key = value` with
 * quoted or bare strings, comma-separated lists, `'''`/`"""` multi-line strings and `#` comments.
 * Values stay strings (or lists of strings): types come from the reader's own schema, as in
 * ConfigObj. No npm package reads this format.
 * @module
 */
import { ConfigError } from '../errors.js';

/** A section: keys to strings, lists of strings or subsections. */
export interface ConfigObjSection {
  [key: string]: string | string[] | ConfigObjSection;
}

/**
 * Parses ConfigObj text.
 * @throws ConfigError naming the line of the first syntax error.
 */
export function parseConfigObj(text: string, source = '(ConfigObj)'): ConfigObjSection {
  const root: ConfigObjSection = {};
  const stack: ConfigObjSection[] = [root];
  const lines = text.split(/\r\n|\r|\n/);
  const fail = (line: number, message: string): never => {
    throw new ConfigError(source, [{ path: '', message: `ConfigObj syntax error at line ${line}: ${message}` }]);
  };
  for (let i = 0; i < lines.length; i++) {
    const number = i + 1;
    const line = lines[i]!.trim();
    if (line === '' || line.startsWith('#')) continue;
    const header = /^(\[+)\s*([^\]]+?)\s*(\]+)\s*(#.*)?$/.exec(line);
    if (header) {
      const depth = header[1]!.length;
      if (header[3]!.length !== depth) fail(number, `unbalanced brackets in ${line}`);
      if (depth > stack.length) fail(number, `section ${line} is nested more than one level below its parent`);
      const name = unquote(header[2]!);
      stack.length = depth;
      const parent = stack[depth - 1]!;
      if (name in parent) fail(number, `duplicate section '${name}'`);
      const section: ConfigObjSection = {};
      parent[name] = section;
      stack.push(section);
      continue;
    }
    const eq = line.indexOf('=');
    if (eq <= 0) fail(number, `expected 'key = value' or '[section]', got ${JSON.stringify(line)}`);
    const key = unquote(line.slice(0, eq).trim());
    let rest = line.slice(eq + 1).trim();
    const section = stack[stack.length - 1]!;
    if (key in section) fail(number, `duplicate key '${key}'`);
    const triple = /^('''|""")/.exec(rest);
    if (triple) {
      const quote = triple[1]!;
      rest = rest.slice(3);
      const parts: string[] = [];
      for (;;) {
        const end = rest.indexOf(quote);
        if (end >= 0) {
          parts.push(rest.slice(0, end));
          const after = rest.slice(end + 3).trim();
          if (after && !after.startsWith('#')) fail(i + 1, `unexpected text after the multi-line string: ${after}`);
          break;
        }
        parts.push(rest);
        if (++i >= lines.length) fail(number, `the multi-line string of '${key}' is never closed`);
        rest = lines[i]!;
      }
      section[key] = parts.join('\n');
      continue;
    }
    section[key] = parseValue(rest, number, fail);
  }
  return root;
}

function parseValue(text: string, line: number, fail: (line: number, message: string) => never): string | string[] {
  const items: string[] = [];
  let i = 0;
  let sawComma = false;
  const skipSpace = () => {
    while (i < text.length && /\s/.test(text[i]!)) i++;
  };
  for (;;) {
    skipSpace();
    if (i >= text.length || text[i] === '#') break;
    let item: string;
    const quote = text[i];
    if (quote === '"' || quote === "'") {
      const end = text.indexOf(quote, i + 1);
      if (end < 0) fail(line, `unclosed ${quote} in ${text}`);
      item = text.slice(i + 1, end);
      i = end + 1;
    } else {
      let end = i;
      while (end < text.length && text[end] !== ',' && text[end] !== '#') end++;
      item = text.slice(i, end).trim();
      i = end;
    }
    items.push(item);
    skipSpace();
    if (i < text.length && text[i] === ',') {
      sawComma = true;
      i++;
      continue;
    }
    skipSpace();
    if (i < text.length && text[i] !== '#')
      fail(line, `unexpected text ${JSON.stringify(text.slice(i))} (lists are a, b, c)`);
    break;
  }
  if (sawComma) return items.filter((x, k) => x !== '' || k < items.length - 1);
  return items[0] ?? '';
}

function unquote(text: string): string {
  const t = text.trim();
  return /^(['"]).*\1$/.test(t) ? t.slice(1, -1) : t;
}
