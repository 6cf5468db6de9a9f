/**
 * The public API of Concert's classes, for completion: members declared `private` or `protected`
 * (TypeScript modifiers), `#private`, or tagged `@internal` in their doc comments are not part of
 * it. Derived from the class declarations of the package's sources (read once, at the first
 * completion or just after the first prompt), not from naming conventions.
 * @module
 * @internal
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The folders of the package whose classes users meet at the prompt. */
const FOLDERS = [
  'core',
  'devices',
  'experiments',
  'addons',
  'walkers',
  'transport',
  'tango',
  'reco',
  'video',
  'recording',
  'streaming',
];

const packageRoot = fileURLToPath(new URL('../../', import.meta.url));

interface PublicApi {
  /** Class name → the members it declares that are not public (every class of that name, merged). */
  hidden: Map<string, Set<string>>;
  /** Every class name the package declares. */
  classes: Set<string>;
}

let api: PublicApi | undefined;

/** The package's classes and their non-public members (scanned once; call early to warm it up). */
export function publicApi(): PublicApi {
  api ??= scan();
  return api;
}

function sourceFiles(dir: string): string[] {
  const files: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) files.push(...sourceFiles(path));
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) files.push(path);
  }
  return files;
}

/** `class Name` or `export default abstract class Name` at the start of a line. */
const classLine = /^(?:export\s+)?(?:default\s+)?(?:abstract\s+)?class\s+([A-Za-z_$][\w$]*)/;
/** A member line of a class body (two spaces in), with its modifiers and name. */
const memberLine =
  /^ {2}((?:(?:public|private|protected|static|readonly|override|abstract|async|declare|accessor)\s+)*)(?:(?:get|set)\s+)?(\*\s*)?(#?[A-Za-z_$][\w$]*)\s*[?!]?\s*[(:=<;]/;

/**
 * Reads the class declarations of the package's sources: a member is not public when declared
 * `private`/`protected`, `#private`, or when its doc comment says `@internal`. Line-based (the
 * sources are formatted by prettier: members two spaces into a top-level class), about 20 ms for
 * the whole package where parsing with TypeScript would block the prompt for seconds on a loaded
 * machine.
 */
function scan(): PublicApi {
  const hidden = new Map<string, Set<string>>();
  const classes = new Set<string>();
  const files = FOLDERS.flatMap((folder) => {
    try {
      return sourceFiles(join(packageRoot, folder));
    } catch {
      return [];
    }
  });
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    if (!text.includes('class ')) continue;
    let current: Set<string> | undefined;
    let internalDoc = false;
    let inDoc = false;
    for (const line of text.split('\n')) {
      const cls = classLine.exec(line);
      if (cls) {
        classes.add(cls[1]!);
        current = hidden.get(cls[1]!) ?? new Set<string>();
        hidden.set(cls[1]!, current);
        internalDoc = false;
        continue;
      }
      if (line.startsWith('}')) current = undefined;
      if (!current) continue;
      const trimmed = line.trim();
      if (trimmed.startsWith('/**')) {
        inDoc = !trimmed.endsWith('*/') || trimmed === '/**';
        internalDoc = trimmed.includes('@internal');
        continue;
      }
      if (inDoc) {
        if (trimmed.includes('@internal')) internalDoc = true;
        if (trimmed.endsWith('*/')) inDoc = false;
        continue;
      }
      const member = memberLine.exec(line);
      if (!member) continue;
      const modifiers = member[1] ?? '';
      const name = member[3]!;
      if (internalDoc || name.startsWith('#') || /\b(?:private|protected)\b/.test(modifiers)) current.add(name);
      internalDoc = false;
    }
  }
  for (const [name, set] of hidden) if (set.size === 0) hidden.delete(name);
  return { hidden, classes };
}

/** What `Object.prototype` gives every object: noise when completing a Concert object. */
const objectMembers = new Set([...Object.getOwnPropertyNames(Object.prototype), 'constructor']);

/**
 * True if `member` of `target` is public API: not declared private, protected or `@internal` by
 * any class on `target`'s prototype chain, when one of them comes from Concert (for other objects
 * everything is). `Object.prototype`'s members are noise on Concert objects.
 */
export function isPublicMember(target: unknown, member: string): boolean {
  const classes = concertClasses(target);
  if (classes.length === 0) return true;
  if (objectMembers.has(member)) return false;
  const { hidden } = publicApi();
  return !classes.some((name) => hidden.get(name)?.has(member));
}

/** The class names on `target`'s prototype chain (nearest first) if one is Concert's, else none. */
function concertClasses(target: unknown): string[] {
  if (target === null || (typeof target !== 'object' && typeof target !== 'function')) return [];
  const { classes } = publicApi();
  const names: string[] = [];
  let concert = false;
  for (let p = Object.getPrototypeOf(target); p && p !== Object.prototype; p = Object.getPrototypeOf(p)) {
    const name = (p as { constructor?: { name?: string } }).constructor?.name;
    if (!name) continue;
    names.push(name);
    if (classes.has(name)) concert = true;
  }
  return concert ? names : [];
}
