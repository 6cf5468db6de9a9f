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

/** Module hooks every worker registers before its entry module (see {@link addWorkerHooks}). */
const workerHooks: { specifier: string; data: unknown }[] = [];

/**
 * Adds a module hook (`module.register(specifier, { data })`) that every worker started by
 * {@link startModuleWorker} from now on registers before its entry module. The session adds its
 * `concert/…` resolver, so that worker modules beside session files import as those do.
 */
export function addWorkerHooks(specifier: string, data?: unknown): void {
  if (!workerHooks.some((h) => h.specifier === specifier)) workerHooks.push({ specifier, data });
}

/**
 * Starts the worker module `name` (without extension) next to the module at `base`
 * (pass `import.meta.url`).
 */
export function startModuleWorker(base: string, name: string, options: WorkerOptions = {}): Worker {
  const entry = new URL(`./${name}${base.endsWith('.ts') ? '.ts' : '.js'}`, base);
  // Hooks registered later run first: they see a specifier before tsx does.
  const hooks = workerHooks.length
    ? `const { register: hook } = await import('node:module'); for (const h of ${JSON.stringify(workerHooks)}) hook(h.specifier, { data: h.data });`
    : '';
  if (!entry.pathname.endsWith('.ts'))
    return hooks
      ? new Worker(`(async () => { ${hooks} await import(${JSON.stringify(entry.href)}); })();`, {
          ...options,
          eval: true,
        })
      : new Worker(entry, options);
  // The ESM build of `tsx/esm/api` (its `import` export), located through tsx's package.json
  // (`createRequire`, as this module may be compiled to CommonJS under mocha).
  const manifest = createRequire(base).resolve('tsx/package.json');
  const exports = (
    JSON.parse(readFileSync(manifest, 'utf8')) as { exports: Record<string, { import: { default: string } }> }
  ).exports;
  const api = new URL(exports['./esm/api']!.import.default, pathToFileURL(manifest)).href;
  const source = `import(${JSON.stringify(api)}).then(async ({ register }) => { register(); ${hooks} return import(${JSON.stringify(entry.href)}); });`;
  return new Worker(source, { ...options, eval: true });
}
