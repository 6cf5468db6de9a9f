/**
 * Imports through barrels, pointed at the defining modules. `import { q } from 'concert'` names
 * index.ts, which re-exports core/index.ts, which re-exports eighteen modules: node would load
 * them all (and, through `concert/addons/local`, video/, recording/ and transport/) to hand over
 * one name. The transpile cache instead rewrites such an import to the module that defines the
 * name (`core/quantity.js`), so a session loads only the modules it uses.
 *
 * Only barrels are looked through: modules made of nothing but import and export declarations,
 * which have no code of their own to run. A name is followed through `export { a } from`, an
 * import that is exported again, and `export *` (when exactly one of the stars has it); anything
 * else (a namespace, a name the lexing cannot place, a dependency) stays imported from the barrel
 * as written. The shapes are read from esbuild's output, whose form is regular: declarations at
 * the start of a line, double quotes, an `export { … };` list at the end.
 * @module
 * @internal
 */

/**
 * What importing a name from one module of the package needs to know about it. A name there of
 * `'*'` is the namespace of that module (`export * as ns from`).
 */
export interface Shape {
  /** Nothing but import and export declarations: its names can be taken from where it gets them. */
  barrel: boolean;
  /** Exported name → where it comes from: `[module, name there]`, or `null` when defined here. */
  names: Record<string, [string, string] | null>;
  /** `export * from` targets, in order (a module key, or `null` for one outside the package). */
  stars: Array<string | null>;
  /** An export form the lexing does not know: the names may be incomplete, so none is followed. */
  opaque: boolean;
}

/** Maps a specifier written in a module to the key of a package module (undefined: not one). */
export type ResolveModule = (specifier: string) => string | undefined;

const IMPORT =
  /^import\s*(?:([\w$]+)\s*,?\s*)?(?:\*\s*as\s+([\w$]+)\s*|\{([^}]*)\}\s*)?(?:from\s*)?"([^"]+)";[ \t]*$/gm;
const EXPORT_FROM = /^export\s*\{([^}]*)\}\s*from\s*"([^"]+)";[ \t]*$/gm;
const EXPORT_STAR = /^export\s*\*\s*(?:as\s+([\w$]+)\s*)?from\s*"([^"]+)";[ \t]*$/gm;
const EXPORT_LIST = /^export\s*\{([^}]*)\};[ \t]*$/gm;
const EXPORT_DECL = /^export\s+(?:async\s+)?(?:function\s*\*?|class|const|let|var)\s*([\w$]+)/gm;
const EXPORT_DEFAULT = /^export\s+default\b/gm;
const ANY_EXPORT = /^export\b/gm;

/** `a, b as c, default as d` → [[imported, local], …] (string names are left out). */
function specifiers(list: string): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const part of list.split(',')) {
    const m = /^\s*([\w$]+)(?:\s+as\s+([\w$]+))?\s*$/.exec(part);
    if (m) out.push([m[1]!, m[2] ?? m[1]!]);
  }
  return out;
}

/** The {@link Shape} of a module from esbuild's output `js`; `resolve` maps its specifiers. */
export function shapeOf(js: string, resolve: ResolveModule): Shape {
  const names: Shape['names'] = {};
  const stars: Shape['stars'] = [];
  let exportsKnown = 0;
  // Local binding → [module, imported name] (a namespace import is the module's own here).
  const imported = new Map<string, [string, string] | null>();
  let rest = js;
  const strip = (re: RegExp, each: (m: RegExpExecArray) => void, isExport: boolean) => {
    rest = rest.replace(re, (...args) => {
      const m = args.slice(0, -2) as unknown as RegExpExecArray;
      each(m);
      if (isExport) exportsKnown++;
      return '';
    });
  };
  strip(
    IMPORT,
    (m) => {
      const from = resolve(m[4]!);
      if (m[1]) imported.set(m[1], from === undefined ? null : [from, 'default']);
      if (m[2]) imported.set(m[2], from === undefined ? null : [from, '*']);
      for (const [name, local] of specifiers(m[3] ?? '')) imported.set(local, from === undefined ? null : [from, name]);
    },
    false,
  );
  strip(
    EXPORT_FROM,
    (m) => {
      const from = resolve(m[2]!);
      for (const [name, as] of specifiers(m[1]!)) names[as] = from === undefined ? null : [from, name];
    },
    true,
  );
  strip(
    EXPORT_STAR,
    (m) => {
      const from = resolve(m[2]!);
      if (m[1]) names[m[1]] = from === undefined ? null : [from, '*'];
      else stars.push(from ?? null);
    },
    true,
  );
  strip(
    EXPORT_LIST,
    (m) => {
      for (const [local, as] of specifiers(m[1]!)) names[as] = imported.get(local) ?? null;
    },
    true,
  );
  const exportCount = (js.match(ANY_EXPORT) ?? []).length;
  for (const m of js.matchAll(EXPORT_DECL)) {
    names[m[1]!] = null;
    exportsKnown++;
  }
  for (const _ of js.matchAll(EXPORT_DEFAULT)) {
    names.default = null;
    exportsKnown++;
  }
  const code = rest.replace(/\/\/[^\n]*|\/\*[\s\S]*?\*\//g, '').trim();
  return { barrel: code === '', names, stars, opaque: exportsKnown !== exportCount };
}

/**
 * The names whose resolution a module's new shape may change (`'all'`: any name, when it became
 * or stopped being a barrel or its `export *` changed). Importers that import none of them
 * through a barrel keep their rewrites.
 */
export function shapeChanges(old: Shape | undefined, now: Shape): Set<string> | 'all' {
  if (!old) return new Set(Object.keys(now.names));
  if (old.barrel !== now.barrel || old.opaque !== now.opaque || JSON.stringify(old.stars) !== JSON.stringify(now.stars))
    return 'all';
  const names = new Set<string>();
  for (const name of new Set([...Object.keys(old.names), ...Object.keys(now.names)]))
    if (
      !(name in old.names) ||
      !(name in now.names) ||
      JSON.stringify(old.names[name]) !== JSON.stringify(now.names[name])
    )
      names.add(name);
  return names;
}

/** True if module `key` exports `name` (undefined: cannot tell). */
function exportsName(shapes: Record<string, Shape>, key: string, name: string, seen: Set<string>): boolean | undefined {
  const shape = shapes[key];
  if (!shape) return undefined;
  if (name in shape.names) return true;
  if (seen.has(key)) return false;
  seen.add(key);
  let unknown = shape.opaque;
  for (const star of shape.stars) {
    if (star === null) unknown = true;
    else {
      const has = exportsName(shapes, star, name, seen);
      if (has) return true;
      if (has === undefined) unknown = true;
    }
  }
  return unknown ? undefined : false;
}

/**
 * Where importing `name` from module `key` can go instead: `[module, name there]`, the first
 * module on the way that is not a barrel. Undefined when it must stay as written.
 */
export function resolveName(
  shapes: Record<string, Shape>,
  key: string,
  name: string,
  depth = 0,
): [string, string] | undefined {
  const shape = shapes[key];
  if (!shape || depth > 32) return undefined;
  if (!shape.barrel) return [key, name];
  if (shape.opaque) return undefined;
  if (name in shape.names) {
    const from = shape.names[name];
    if (from === null || from === undefined) return [key, name];
    if (from[1] === '*') return from; // a namespace: the module's own, whatever it is
    return resolveName(shapes, from[0], from[1], depth + 1) ?? [key, name];
  }
  const having: string[] = [];
  for (const star of shape.stars) {
    if (star === null) return undefined;
    const has = exportsName(shapes, star, name, new Set());
    if (has === undefined) return undefined;
    if (has) having.push(star);
  }
  // Two stars with the name: ambiguous, which node reports from the barrel.
  if (having.length !== 1) return undefined;
  return resolveName(shapes, having[0]!, name, depth + 1);
}

/**
 * Rewrites the named imports of `js` (esbuild's output) that go through a barrel to the defining
 * modules. `resolve` maps a specifier to a module key; `specifierOf` gives the specifier to write
 * for a module key; `used` hears each name imported through a barrel. The output has the lines
 * of `js` (the new imports of one statement share its first line).
 */
export function rewriteBarrelImports(
  js: string,
  shapes: Record<string, Shape>,
  resolve: ResolveModule,
  specifierOf: (key: string) => string,
  used?: (name: string) => void,
): string {
  return js.replace(
    IMPORT,
    (whole, def: string | undefined, ns: string | undefined, list: string | undefined, spec: string) => {
      if (def || ns || list === undefined) return whole;
      const key = resolve(spec);
      if (key === undefined || !shapes[key]?.barrel) return whole;
      const groups = new Map<string, string[]>();
      // (a namespace import is a statement of its own, kept in its place by a key no specifier has)
      let namespaces = 0;
      const parts = list.split(',').filter((p) => p.trim() !== '');
      for (const part of parts) {
        const m = /^\s*([\w$]+)(?:\s+as\s+([\w$]+))?\s*$/.exec(part);
        if (m) used?.(m[1]!);
        const target = m ? resolveName(shapes, key, m[1]!) : undefined;
        const to = target && target[0] !== key ? target : undefined;
        if (to?.[1] === '*') {
          groups.set(`\0${namespaces++}`, [`* as ${m![2] ?? m![1]}`, specifierOf(to[0])]);
          continue;
        }
        const where = to ? specifierOf(to[0]) : spec;
        const text = to ? `${to[1]} as ${m![2] ?? m![1]}` : part.trim();
        groups.set(where, [...(groups.get(where) ?? []), text]);
      }
      if (!namespaces && groups.size === 1 && groups.has(spec)) return whole;
      return (
        [...groups]
          .map(([where, items]) =>
            where.startsWith('\0')
              ? `import ${items[0]} from ${JSON.stringify(items[1])};`
              : `import { ${items.join(', ')} } from ${JSON.stringify(where)};`,
          )
          .join(' ')
          // The same lines as before: a session file's inline source map still places its lines.
          .concat('\n'.repeat(whole.split('\n').length - 1))
      );
    },
  );
}
