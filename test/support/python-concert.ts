/**
 * Test helper: Python Concert (ufo-kit/concert) installed by `../shared/anchors/python-concert/
 * setup.sh` (Debian's Python packages and a local pip install, no network). Tests that need it
 * are skipped with the reason when the anchors are absent or the install fails.
 * @module
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SkippableContext } from './tools.js';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The python-concert anchors beside the repository (or beside its main checkout, for a git worktree). */
export function pythonConcertAnchors(): string | undefined {
  const candidates = [join(repo, '..', 'shared', 'anchors', 'python-concert')];
  try {
    const common = execFileSync('git', ['rev-parse', '--path-format=absolute', '--git-common-dir'], { cwd: repo })
      .toString()
      .trim();
    candidates.push(join(dirname(common), '..', 'shared', 'anchors', 'python-concert'));
  } catch {
    // not a git checkout
  }
  return candidates.find((c) => existsSync(join(c, 'setup.sh')));
}

let installed: { python: string; concert: string } | string | undefined;

/**
 * Installs Python Concert once per test process (setup.sh is idempotent: seconds when nothing
 * changed) and returns its Python and `concert` command; skips the test or suite with the reason.
 */
export function requirePythonConcert(ctx: SkippableContext): { python: string; concert: string } {
  if (installed === undefined) {
    const anchors = pythonConcertAnchors();
    const venv = process.env['CONCERT_VENV'] ?? '/tmp/concert-venv';
    if (!anchors) installed = `../shared/anchors/python-concert is absent (no Python Concert to compare with)`;
    else {
      const r = spawnSync('bash', [join(anchors, 'setup.sh')], {
        env: { ...process.env, CONCERT_VENV: venv },
        timeout: 600_000,
        encoding: 'utf8',
      });
      installed =
        r.status === 0 && existsSync(join(venv, 'bin', 'concert'))
          ? { python: join(venv, 'bin', 'python'), concert: join(venv, 'bin', 'concert') }
          : `Python Concert's setup.sh failed: ${(r.stderr || r.stdout || r.error?.message || '').trim().split('\n').pop()}`;
    }
  }
  if (typeof installed === 'string') {
    console.log(`      skipped: ${installed}`);
    ctx.skip();
    throw new Error('unreachable: ctx.skip() returned');
  }
  return installed;
}
