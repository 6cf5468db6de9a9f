/**
 * Loading a session file: its exports, with devices named after the exports that hold them.
 * @module
 * @internal
 */
import { activeLoader } from './loader.js';

/**
 * Imports a session file through the {@link activeLoader} and names its devices after the exports
 * that hold them (devices created without an explicit `name`). Returns the module's exports.
 * @throws Error when no loader is active (session files are loaded by the `concert` command).
 */
export async function loadSession(file: string): Promise<Record<string, unknown>> {
  const loader = activeLoader();
  if (!loader) throw new Error(`cannot load ${file}: session files are loaded by the concert command (bin/concert)`);
  const { Device } = await import('../../core/index.js');
  const module = await loader.importSession(file);
  const exports: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(module)) {
    if (key === 'default' && value === undefined) continue;
    if (value instanceof Device && !value.hasExplicitName) value.rename(key);
    exports[key] = value;
  }
  return exports;
}
