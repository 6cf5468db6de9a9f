/**
 * Start-up of the `concert` command, after bin/concert found the cache: bring the package's
 * transpile cache up to date (saying so when that takes a while: after an install or update),
 * install the V8 code cache, and run session/cli/main.ts from the cache.
 * @module
 * @internal
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { installCodeCache } from './code-cache.js';
import { brokenImportCause } from './load-error.js';
import * as loaderModule from './index.js';
import { Loader, setActiveLoader } from './loader.js';
import { LOADER_KEY } from './start-bundle.js';

/** Where bin/concert found things. */
export interface BootPaths {
  /** The package root (where package.json is). */
  root: string;
  /** The transpile cache (node_modules/.cache/concert, or a user cache when that is not writable). */
  cacheDir: string;
}

/** Fewer changed files than this are transpiled without a word (a developer's edit). */
const QUIET_BELOW = 10;

/**
 * `concert --prepare-install`, run by npm after an install (`postinstall`): transpiles the package
 * into the cache and loads what every start loads, so the V8 code cache is written too; the first
 * `concert start` after `npm ci` then starts as fast as any other. Touches no session or user file.
 */
export const PREPARE_INSTALL = '--prepare-install';

/** Runs the `concert` command with `argv` (without `node` and the script). */
export async function boot(argv: string[], paths: BootPaths): Promise<void> {
  if (argv.length === 1 && argv[0] === PREPARE_INSTALL) return prepareInstall(paths);
  const loader = new Loader(paths.root, paths.cacheDir);
  const refreshed = await loader.refresh({
    onTranspile: (count, total) => {
      if (count >= QUIET_BELOW)
        process.stderr.write(`concert: preparing ${count} of ${total} files for this install (once)… `);
    },
  });
  if (refreshed.transpiled >= QUIET_BELOW) process.stderr.write(`done in ${(refreshed.ms / 1000).toFixed(1)} s\n`);
  if (process.env.CONCERT_STARTUP_TIMING)
    process.stderr.write(
      `[concert] transpile cache checked in ${refreshed.ms.toFixed(0)} ms (${refreshed.transpiled} transpiled)\n`,
    );
  if (!process.env.CONCERT_NO_CODE_CACHE) installCodeCache(join(paths.cacheDir, 'v8'));
  setActiveLoader(loader);
  shareLoaderModule();
  await runMain(loader, argv).catch(explainBrokenPackage);
}

/** Runs session/cli/main.ts from the cache, with worker modules mapped as session files are. */
async function runMain(loader: Loader, argv: string[]): Promise<void> {
  // Worker modules beside session files (streaming steps) are transpiled as session files are.
  const worker = (await loader.importPackage('core/worker.ts')) as typeof import('../../core/worker.js');
  worker.setWorkerModuleMapper((url) =>
    url.startsWith('file:') && url.endsWith('.ts') ? loader.sessions.urlOf(fileURLToPath(url)) : url,
  );
  const { main } = (await loader.importPackage('session/cli/main.ts')) as { main(argv: string[]): Promise<void> };
  await main(argv);
}

/**
 * A package file that does not transpile shows as a link error of a module importing it ("does
 * not provide an export named …"), at start-up or when a command imports its modules: says
 * which file and line instead, and exits 1. Other errors go on as they were.
 */
function explainBrokenPackage(error: unknown): never {
  const broken = brokenImportCause(error);
  if (!broken) throw error;
  process.stderr.write(`concert: the package does not compile: ${broken}\n`);
  process.exit(1);
}

/** Leaves the loader's module where the start bundle reads it (start-bundle.ts, LOADER_KEY). */
function shareLoaderModule(): void {
  (globalThis as Record<symbol, unknown>)[Symbol.for(LOADER_KEY)] = loaderModule;
}

async function prepareInstall(paths: BootPaths): Promise<void> {
  const loader = new Loader(paths.root, paths.cacheDir);
  const refreshed = await loader.refresh();
  installCodeCache(join(paths.cacheDir, 'v8'));
  setActiveLoader(loader);
  shareLoaderModule();
  // What `concert start` loads before the first prompt (its big CommonJS files are code-cached at exit).
  for (const file of ['session/cli/main.ts', 'core/index.ts', 'session/helpers.ts', 'session/repl/index.ts'])
    await loader.importPackage(file);
  process.stdout.write(
    `concert: ${refreshed.transpiled} of ${refreshed.total} files prepared in ${(refreshed.ms / 1000).toFixed(1)} s\n`,
  );
}
