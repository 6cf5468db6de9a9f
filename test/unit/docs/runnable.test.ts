/**
 * The docs cannot drift: every fenced block of README.md and docs/*.md opened with ```ts runnable
 * is run as a session script (`concert start --filename F --non-interactive`) and must exit 0.
 * Blocks without the marker are fragments (prompt transcripts, signatures) and are not run.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { concert, root } from '../session/support.js';

/** A block to run: where it is and its text. */
interface RunnableBlock {
  file: string;
  line: number;
  code: string;
}

/** The ```ts runnable blocks of `text`. */
export function runnableBlocks(file: string, text: string): RunnableBlock[] {
  const blocks: RunnableBlock[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    if (!/^```ts\s+runnable\b/.test(lines[i]!)) continue;
    const start = i + 1;
    let end = start;
    while (end < lines.length && !/^```\s*$/.test(lines[end]!)) end++;
    blocks.push({ file, line: start + 1, code: lines.slice(start, end).join('\n') });
    i = end;
  }
  return blocks;
}

const docs = [
  'README.md',
  ...readdirSync(join(root, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];
const blocks = docs.flatMap((f) => runnableBlocks(f, readFileSync(join(root, f), 'utf8')));

describe('runnable examples of the docs', function () {
  this.timeout(120_000);
  let home: string;
  before(() => (home = mkdtempSync(join(tmpdir(), 'concert-docs-'))));
  after(() => rmSync(home, { recursive: true, force: true }));

  it('finds runnable blocks', () => {
    assert.ok(blocks.length > 0, 'no ```ts runnable block in README.md or docs/');
    assert.deepEqual(runnableBlocks('x.md', 'a\n```ts runnable\nconst a = 1;\n```\n```ts\nnot run\n```\n'), [
      { file: 'x.md', line: 3, code: 'const a = 1;' },
    ]);
  });

  for (const block of blocks) {
    it(`${block.file}:${block.line} runs as a session script`, () => {
      const file = join(home, `${block.file.replaceAll('/', '_').replace(/\.md$/, '')}_${block.line}.ts`);
      writeFileSync(file, `${block.code}\n`);
      const r = concert(home, ['start', '--filename', file, '--non-interactive'], { cwd: home, timeoutMs: 100_000 });
      assert.equal(r.status, 0, `${block.file}:${block.line} exited ${r.status}\n${r.stderr}\n${r.stdout}`);
    });
  }
});
