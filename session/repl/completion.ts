/**
 * Tab completion at the prompt: node's own (globals, properties, methods) plus the names of a
 * device's parameters inside `.param("…`: `flatMotor.param("po⇥` → `flatMotor.param("position")`.
 * @module
 * @internal
 */
import type { REPLServer } from 'node:repl';
import { internals, type Completer } from './internals.js';

const paramCall = /([A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*)\.param\(\s*(['"])([\w$]*)$/;

/**
 * Completions of a parameter name for `line` (ending in `x.y.param("pre`), looking `x.y` up in
 * `scope`; undefined when the line is not such a call or the object has no parameters.
 */
export function completeParameterName(line: string, scope: object): [string[], string] | undefined {
  const m = paramCall.exec(line);
  if (!m) return undefined;
  const [, path, quote, prefix] = m as unknown as [string, string, string, string];
  let target: unknown = scope;
  for (const key of path.split('.')) target = target == null ? undefined : (target as Record<string, unknown>)[key];
  const parameters = (target as { parameters?: () => Array<{ name: string }> } | undefined)?.parameters;
  if (typeof parameters !== 'function') return undefined;
  const names = parameters
    .call(target)
    .map((p) => p.name)
    .filter((n) => n.startsWith(prefix));
  return [names.map((n) => `${n}${quote})`), prefix];
}

/** Adds parameter-name completion to `server` (names are looked up in `scope`, default: the globals). */
export function installCompletion(server: REPLServer, scope: object = globalThis): void {
  const repl = internals(server);
  const complete: Completer = repl.completer.bind(server);
  repl.completer = (line, callback) => {
    const own = completeParameterName(line, scope);
    if (own) return callback(null, own);
    complete(line, callback);
  };
}
