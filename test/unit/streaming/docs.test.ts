/**
 * The examples of docs/streaming.md run as written: the pipeline as a session file (`concert start
 * --filename … --non-interactive`) and the worker module beside it, importing `concert/…`, on the
 * files of the detector simulation process.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { requireTool } from '../../support/tools.js';
import { concertAsync } from '../session/support.js';
import { sqlite3, startDetector, stopProcess, useTempDir } from './helpers.js';

const DOC = fileURLToPath(new URL('../../../docs/streaming.md', import.meta.url));

/** The ```ts blocks of a markdown file. */
function tsBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);
}

describe('docs/streaming.md examples', function () {
  this.timeout(120_000);
  let detector: ChildProcess | undefined;
  afterEach(() => stopProcess(detector)); // before the temporary directory goes
  const tmp = useTempDir();

  it('the pipeline and its worker module run as a session on a detector’s files', async function () {
    requireTool(this, 'sqlite3', 'sqlite3');
    const [pipeline, worker] = tsBlocks(readFileSync(DOC, 'utf8'));
    const input = join(tmp.path, 'detector');
    const run = join(tmp.path, 'run1');
    mkdirSync(input);
    mkdirSync(run);
    // The example's dark and flat fields, defined after its imports; its paths made temporary.
    const lines = pipeline!.replaceAll('/data/detector', input).replaceAll('/data/run1', run).split('\n');
    const lastImport = lines.findLastIndex((l) => l.startsWith('import '));
    lines.splice(
      lastImport + 1,
      0,
      'const darkField = new Float32Array(64 * 64).fill(100), flatField = new Float32Array(64 * 64).fill(1100);',
    );
    writeFileSync(join(tmp.path, 'pipeline.ts'), lines.join('\n'));
    writeFileSync(join(tmp.path, 'flat-worker.ts'), worker!.replace(/^\/\/ flat-worker\.ts\n/, ''));

    // The watcher takes only new files: the detector writes until the pipeline has its 500.
    detector = await startDetector(input, ['--rate', '200', '--count', '30000', '--mode', 'direct']);
    const r = await concertAsync(
      tmp.path,
      ['start', '--filename', join(tmp.path, 'pipeline.ts'), '--non-interactive'],
      {
        timeoutMs: 100_000,
      },
    );
    assert.equal(r.status, 0, r.stderr);
    assert.equal(
      r.stdout
        .trim()
        .split('\n')
        .filter((l) => /^\d+ \d+ done$/.test(l)).length,
      500,
      'items$ printed each item',
    );
    for (const name of ['read', 'flat', 'write'])
      assert.deepEqual(sqlite3(join(run, `${name}.sqlite`), 'SELECT state, items, failed FROM summary'), [
        ['closed', '500', '0'],
      ]);
    const paths = sqlite3(join(run, 'write.sqlite'), 'SELECT record FROM items').map(
      (row) => JSON.parse(row[0]!) as string,
    );
    assert.equal(new Set(paths).size, 500);
    assert.ok(paths.every((p) => existsSync(p)));
  });
});
