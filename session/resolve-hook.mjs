// Module resolve hook (runs on Node's loader thread; plain JS on purpose):
// - maps the specifiers `concert` and `concert/…` to this package from anywhere on disk, so
//   session files in ~/.local/share/concert/ can `import { q } from 'concert'`;
// - loads `.ts` files outside any package (session files) as ES modules, as sessions are written
//   (top-level await, import/export), where Node would otherwise assume CommonJS.
// Registered by session/loader.ts.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let packageJson;
const typeOfDir = new Map();

export function initialize(data) {
  packageJson = data.packageJson;
}

/** The "type" of the package that holds `dir` (undefined: no package.json up to the root). */
function packageType(dir) {
  if (typeOfDir.has(dir)) return typeOfDir.get(dir);
  let type;
  const file = join(dir, 'package.json');
  if (existsSync(file)) {
    try {
      type = JSON.parse(readFileSync(file, 'utf8')).type ?? 'commonjs';
    } catch {
      type = 'commonjs';
    }
  } else {
    const parent = dirname(dir);
    type = parent === dir ? undefined : packageType(parent);
  }
  typeOfDir.set(dir, type);
  return type;
}

export async function resolve(specifier, context, nextResolve) {
  const mapped =
    packageJson && (specifier === 'concert' || specifier.startsWith('concert/')) && context.parentURL !== packageJson
      ? { ...context, parentURL: packageJson } // resolve as a self-reference from the package root
      : context;
  let result;
  try {
    result = await nextResolve(specifier, mapped);
  } catch (error) {
    if (mapped === context) throw error;
    // Name the specifier that was written (not "imported from package.json").
    const e = new Error(`${error.message.replace(/ imported from .*$/, '')} (for '${specifier}')`);
    e.code = error.code;
    throw e;
  }
  if (result.url.startsWith('file:') && /\.ts(\?|$)/.test(result.url) && !result.url.includes('/node_modules/')) {
    const path = fileURLToPath(result.url.replace(/\?.*$/, ''));
    if (packageType(dirname(path)) === undefined) return { ...result, format: 'module' };
  }
  return result;
}
