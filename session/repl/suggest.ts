/**
 * Errors at the prompt in the coordinates of what was typed, and "did you mean" for a typo of a
 * global or a member: `flatMotor.setPositon(…)` → `TypeError: flatMotor.setPositon is not a
 * function (at <prompt>:1:11); did you mean setPosition?`.
 * @module
 * @internal
 */
import { editDistance } from '../../core/index.js';
import { isPublicMember } from './public-api.js';

/** The candidate nearest to `typed` (case differences count little), if it is near enough to be a typo. */
export function nearest(typed: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestScore = Infinity;
  for (const c of candidates) {
    if (c === typed) continue;
    const score = c.toLowerCase() === typed.toLowerCase() ? 0.5 : editDistance(typed, c);
    if (score < bestScore) {
      best = c;
      bestScore = score;
    }
  }
  const allowed = Math.max(1, Math.floor(typed.length / 3));
  return bestScore <= allowed ? best : undefined;
}

/** Every property name of `target` and its prototypes that is public API. */
function members(target: unknown): string[] {
  const names = new Set<string>();
  for (let p: unknown = target; p !== null && p !== undefined && p !== Object.prototype; p = Object.getPrototypeOf(p))
    for (const name of Object.getOwnPropertyNames(p)) names.add(name);
  return [...names].filter((n) => isPublicMember(target, n));
}

function lookUp(path: string, scope: object): unknown {
  let target: unknown = scope;
  for (const key of path.split('.')) {
    if (target === null || target === undefined) return undefined;
    try {
      target = (target as Record<string, unknown>)[key];
    } catch {
      return undefined;
    }
  }
  return target;
}

const notAFunction = /^([A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*)\.([A-Za-z_$][\w$]*) is not a function$/;
const notDefined = /^([A-Za-z_$][\w$]*) is not defined$/;

/** What the error is about: the name that was typed wrong, and where it is looked up. */
function culprit(error: unknown): { path?: string; name: string } | undefined {
  const message = (error as { message?: unknown } | null)?.message;
  if (typeof message !== 'string') return undefined;
  const m = notAFunction.exec(message);
  if (m && error instanceof TypeError) return { path: m[1]!, name: m[2]! };
  const r = notDefined.exec(message);
  if (r && (error as Error).name === 'ReferenceError') return { name: r[1]! };
  return undefined;
}

/** `did you mean setPosition?` for a mistyped member or global, if a near name exists. */
export function suggestion(error: unknown, scope: object): string | undefined {
  const c = culprit(error);
  if (!c) return undefined;
  const candidates = c.path === undefined ? Object.getOwnPropertyNames(scope) : members(lookUp(c.path, scope));
  const near = nearest(c.name, candidates);
  return near === undefined ? undefined : `did you mean ${near}?`;
}

/**
 * Where in the typed `input` the error is (1-based line and column of the mistyped name), or
 * undefined when it cannot be told: node runs a rewritten form of the input (TypeScript removed,
 * top-level `await` wrapped), whose columns are not the user's.
 */
export function locateInInput(error: unknown, input: string): { line: number; column: number } | undefined {
  const c = culprit(error);
  if (!c) return undefined;
  const needle = c.path === undefined ? c.name : `${c.path.split('.').at(-1)}.${c.name}`;
  const lines = input.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const pattern = new RegExp(`(?<![\\w$])${needle.replaceAll('$', '\\$').replaceAll('.', '\\s*\\.\\s*')}(?![\\w$])`);
    const m = pattern.exec(lines[i]!);
    if (m) return { line: i + 1, column: m.index + 1 + (c.path === undefined ? 0 : m[0].lastIndexOf(c.name)) };
  }
  return undefined;
}
