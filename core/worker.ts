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

let mapModule: ((url: string) => string) | undefined;

/**
 * Lets the session map a worker module's URL before a worker imports it: the `concert` command
 * transpiles TypeScript modules beside session files as it does the session files themselves, so
 * a worker imports plain JavaScript whose `concert/…` imports point at the package.
 */
export function setWorkerModuleMapper(mapper: ((url: string) => string) | undefined): void {
  mapModule = mapper;
}

/** The URL a worker imports for the user module at `url` (see {@link setWorkerModuleMapper}). */
export function workerModuleUrl(url: string): string {
  return mapModule ? mapModule(url) : url;
}

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
  const source =
    `import(${JSON.stringify(api)}).then(async ({ register }) => { register(); ` +
    `return import(${JSON.stringify(entry.href)}); });`;
  return new Worker(source, { ...options, eval: true });
}
