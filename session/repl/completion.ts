/**
 * Tab completion at the prompt: node's own (globals, properties, methods) without what is not
 * public API of Concert's objects (protected hooks, `@internal` members: see `public-api.ts`),
 * plus the names of a device's parameters inside `.param("…` (`flatMotor.param("po⇥` →
 * `flatMotor.param("position")`) and the values of a Selection inside `.set("…` or `.setX("…`
 * (`camera.setTriggerSource("SO⇥` → `camera.setTriggerSource("SOFTWARE")`).
 * @module
 * @internal
 */
import type { REPLServer } from 'node:repl';
import { internals, type Completer } from './internals.js';
import { isPublicMember, publicApi } from './public-api.js';

const identifierPath = /^[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*$/;

/** The value at `path` (`a.b.c`) in `scope`, or undefined. Reads properties only, calls nothing but getters. */
function lookUp(path: string, scope: object): unknown {
  let target: unknown = scope;
  for (const key of path.split('.')) {
    if (target == null) return undefined;
    try {
      target = (target as Record<string, unknown>)[key];
    } catch {
      return undefined;
    }
  }
  return target;
}

const setCall = /([A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*)\.(set[A-Z]?[\w$]*)\(\s*(['"])([^'"]*)$/;

/**
 * Completions of a Selection value for `line` ending in `x.param.set("pre` or `x.setParam("pre`;
 * undefined when the line is not such a call or the parameter is no Selection.
 */
export function completeSelectionValue(line: string, scope: object): [string[], string] | undefined {
  const m = setCall.exec(line);
  if (!m) return undefined;
  const [, path, method, quote, prefix] = m as unknown as [string, string, string, string, string];
  let parameter: unknown;
  if (method === 'set') parameter = lookUp(path, scope);
  else {
    const owner = lookUp(path, scope) as { hasParam?: (n: string) => boolean; param?: (n: string) => unknown };
    const name = method[3]!.toLowerCase() + method.slice(4);
    if (typeof owner?.hasParam === 'function' && owner.hasParam(name)) parameter = owner.param!(name);
  }
  const values = (parameter as { kind?: string; values?: readonly unknown[] } | undefined)?.values;
  if ((parameter as { kind?: string } | undefined)?.kind !== 'selection' || !Array.isArray(values)) return undefined;
  const matching = values.map(String).filter((v) => v.startsWith(prefix));
  return [matching.map((v) => `${v}${quote})`), prefix];
}

/** Drops from node's completions the members that are not public API of the object they belong to. */
export function publicCompletions([list, prefix]: [string[], string], scope: object): [string[], string] {
  const owners = new Map<string, unknown>();
  const kept = list.filter((entry) => {
    const dot = entry.lastIndexOf('.');
    if (entry === '' || dot <= 0) return true;
    const path = entry.slice(0, dot);
    if (!identifierPath.test(path)) return true;
    if (!owners.has(path)) owners.set(path, lookUp(path, scope));
    return isPublicMember(owners.get(path), entry.slice(dot + 1));
  });
  // Node separates groups (own members, prototype's, …) with ''; no empty groups, no trailing one.
  const compact = kept.filter((entry, i) => entry !== '' || (i > 0 && kept[i - 1] !== '' && i < kept.length - 1));
  return [compact, prefix];
}

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

/**
 * Adds parameter-name and Selection-value completion to `server` and hides what is not public
 * (names are looked up in `scope`, default: the globals).
 */
export function installCompletion(server: REPLServer, scope: object = globalThis): void {
  const repl = internals(server);
  const complete: Completer = repl.completer.bind(server);
  repl.completer = (line, callback) => {
    const own = completeParameterName(line, scope) ?? completeSelectionValue(line, scope);
    if (own) return callback(null, own);
    complete(line, (error, result) => {
      if (error || !result) return callback(error, result);
      try {
        callback(null, publicCompletions(result as [string[], string], scope));
      } catch {
        callback(null, result);
      }
    });
  };
  // The public API is read from the package's sources once, while the user reads the banner.
  setTimeout(() => {
    try {
      publicApi();
    } catch {
      // completion then shows everything
    }
  }, 200).unref();
}
