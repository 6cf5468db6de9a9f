/**
 * Worker threads that run our TypeScript modules: under tsx (the caller is a `.ts` file) the
 * worker registers tsx itself, as `execArgv: ['--import', 'tsx']` does not reach a worker's entry
 * module on Node 20; from compiled JavaScript the `.js` sibling is started directly.
 * @module
 * @internal
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker, type WorkerOptions } from 'node:worker_threads';

/**
 * Starts the worker module `name` (without extension) next to the module at `base`
 * (pass `import.meta.url`).
 */
export function startModuleWorker(base: string, name: string, options: WorkerOptions = {}): Worker {
  const entry = new URL(`./${name}${base.endsWith('.ts') ? '.ts' : '.js'}`, base);
  if (!entry.pathname.endsWith('.ts')) return new Worker(entry, options);
  // The ESM build of `tsx/esm/api` (its `import` export), located through tsx's package.json
  // (`createRequire`, as this module may be compiled to CommonJS under mocha).
  const manifest = createRequire(base).resolve('tsx/package.json');
  const exports = (
    JSON.parse(readFileSync(manifest, 'utf8')) as { exports: Record<string, { import: { default: string } }> }
  ).exports;
  const api = new URL(exports['./esm/api']!.import.default, pathToFileURL(manifest)).href;
  const source = `import(${JSON.stringify(api)}).then(({ register }) => { register(); return import(${JSON.stringify(entry.href)}); });`;
  return new Worker(source, { ...options, eval: true });
}
