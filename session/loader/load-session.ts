/**
 * Loading a session file: its exports, with devices and experiments named after the variables
 * that hold them — from the moment they are made, so every message while loading names them as
 * the session does (`export const flatMotor = await LinearMotor.create()` is `flatMotor`, not
 * `linearMotor1`). An explicit `name` option always wins.
 * @module
 * @internal
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { activeLoader } from './loader.js';

/**
 * Imports a session file through the {@link activeLoader}, naming what it makes after the
 * variables it is assigned to, and renames unnamed exports after their export names (for
 * `export { m as flatMotor }`). Returns the module's exports.
 * @throws Error when no loader is active (session files are loaded by the `concert` command).
 */
export async function loadSession(file: string): Promise<Record<string, unknown>> {
  const loader = activeLoader();
  if (!loader) throw new Error(`cannot load ${file}: session files are loaded by the concert command (bin/concert)`);
  // (through the loader: the main thread's copy of core, start-bundle.ts)
  const { Parameterizable, setDefaultNamer } = (await loader.importPackage(
    'core/index.ts',
  )) as typeof import('../../core/index.js');
  const url = await loader.prepareSession(file);
  const previous = setDefaultNamer(bindingNamer([file, fileURLToPath(url)]));
  let module: Record<string, unknown>;
  try {
    module = await loader.importSession(file);
  } finally {
    setDefaultNamer(previous);
  }
  const exports: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(module)) {
    if (key === 'default' && value === undefined) continue;
    if (value instanceof Parameterizable && !value.hasExplicitName && value.name !== key) value.rename(key);
    exports[key] = value;
  }
  return exports;
}

/** `export const NAME =`, `const NAME: T =`, `let NAME =` up to the call: `await X.create(`, `new X(`. */
const binding =
  /^\s*(?:export\s+)?(?:const|let|var)\s+([A-Za-z_$][\w$]*)\s*(?::[^=]+)?=\s*(?:await\s+)?(?:new\s+)?[\w$.]*$/;
/** A stack frame: `at … (file:line:column)` or `at file:line:column`. */
const stackFrame = /\(?((?:file:\/\/)?\/[^():\s]+):(\d+):(\d+)\)?\s*$/;

/**
 * A namer for objects made while `files` run: the variable of the declaration whose initializer
 * is the very call that makes the object, on the line of the innermost frame in one of `files`;
 * the first object made by a line only (what that call makes inside gets the usual names).
 */
export function bindingNamer(files: readonly string[]): (kind: string) => string | undefined {
  const lines = new Map<string, string[]>();
  const used = new Set<string>();
  const sourceLines = (file: string) => {
    let text = lines.get(file);
    if (!text) {
      try {
        text = readFileSync(file, 'utf8').split('\n');
      } catch {
        text = [];
      }
      lines.set(file, text);
    }
    return text;
  };
  return () => {
    for (const line of String(new Error().stack).split('\n').slice(1)) {
      const m = stackFrame.exec(line.trim());
      if (!m) continue;
      const file = m[1]!.startsWith('file://') ? fileURLToPath(m[1]!) : m[1]!;
      if (!files.includes(file)) continue;
      const key = `${file}:${m[2]}`;
      if (used.has(key)) return undefined;
      used.add(key);
      const text = sourceLines(file)[Number(m[2]) - 1] ?? '';
      return binding.exec(text.slice(0, Number(m[3]) - 1))?.[1];
    }
    return undefined;
  };
}
