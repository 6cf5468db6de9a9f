/**
 * The docs cannot drift: every fenced ```ts block of README.md and docs/*.md is either
 * ```ts runnable, run as a session script (`concert start --filename F --non-interactive`) that
 * must exit 0; ```ts file <name>, a module the runnable examples of the same page import (a worker
 * module), written next to each of them; or ```ts fragment <why it cannot run>, which names the
 * reason it is not run (it needs hardware, a facility's Tango database, …). A ```ts block with
 * none of these fails the suite.
 * Runnable blocks are also type-checked, all at once, as the repository's own code is. Blocks run
 * two at a time in their own processes, so the whole file stays around a minute and a half on a
 * quiet machine.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { concertBin, root, type CliResult } from '../session/support.js';

/** A fenced ```ts block: where it is, what it is marked and its text. */
export interface TsBlock {
  file: string;
  /** The first line of code (1-based). */
  line: number;
  kind: 'runnable' | 'file' | 'fragment' | 'unmarked';
  /** For a fragment: why it is not run. */
  reason?: string;
  /** For a file: its name next to the page's runnable examples. */
  name?: string;
  code: string;
}

/** The ```ts blocks of `text` (other languages are not examples to run: sh, toml, text, …). */
export function tsBlocks(file: string, text: string): TsBlock[] {
  const blocks: TsBlock[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const open = /^```ts(?:\s+(.*))?$/.exec(lines[i]!.trimEnd());
    if (!open) continue;
    const start = i + 1;
    let end = start;
    while (end < lines.length && !/^```\s*$/.test(lines[end]!)) end++;
    const code = lines.slice(start, end).join('\n');
    const info = (open[1] ?? '').trim();
    const fragment = /^fragment\b\s*(.*)$/.exec(info);
    const module = /^file\s+([\w.-]+\.ts)$/.exec(info);
    const block: TsBlock =
      info === 'runnable'
        ? { file, line: start + 1, kind: 'runnable', code }
        : module
          ? { file, line: start + 1, kind: 'file', name: module[1]!, code }
          : fragment
            ? { file, line: start + 1, kind: 'fragment', reason: fragment[1]!.trim(), code }
            : { file, line: start + 1, kind: 'unmarked', code };
    blocks.push(block);
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
const blocks = docs.flatMap((f) => tsBlocks(f, readFileSync(join(root, f), 'utf8')));
const runnable = blocks.filter((b) => b.kind === 'runnable');

/** Runs `node ...args` in `cwd` to completion (killed after `timeoutMs`). */
function run(args: string[], cwd: string, env: NodeJS.ProcessEnv, timeoutMs: number): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, {
      cwd,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => {
      stderr += `\n[killed after ${timeoutMs} ms]`;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

/**
 * A tsconfig that type-checks the examples in `dir` as the repository's code is checked, with
 * `concert/…` resolved to this repository (as its package.json#exports does) and the
 * repository's node_modules linked in.
 */
function writeTypeCheckProject(dir: string): void {
  symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'), 'dir');
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module' }));
  const tsconfig = {
    extends: join(root, 'tsconfig.json'),
    compilerOptions: {
      types: ['node'],
      paths: { concert: [join(root, 'index.ts')], 'concert/*': [join(root, '*.ts'), join(root, '*', 'index.ts')] },
    },
    include: ['**/*.ts'],
    exclude: ['node_modules'],
  };
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify(tsconfig, null, 2));
}

/**
 * Writes every runnable block (with the page's file blocks beside it) and runs, at most
 * `parallel` at once: the type check of them all first, then each block as a session script.
 */
function runAll(home: string, parallel: number): { typeCheck: Promise<CliResult>; scripts: Promise<CliResult>[] } {
  const starts: (() => void)[] = [];
  const queue = (job: () => Promise<CliResult>) =>
    new Promise<CliResult>((resolve, reject) => starts.push(() => job().then(resolve, reject).finally(next)));
  writeTypeCheckProject(home);
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  const typeCheck = queue(() => run([tsc, '-p', join(home, 'tsconfig.json')], home, {}, 200_000));
  const scripts = runnable.map((block) => {
    // Each block in a directory of its own: the relative paths it writes (data/…) do not collide.
    // The session is named after the file: one name per block, so two at once do not share a lock.
    const name = `${block.file.replaceAll('/', '_').replace(/\.md$/, '')}_${block.line}`;
    const dir = join(home, name);
    mkdirSync(dir);
    const file = join(dir, `${name}.ts`);
    writeFileSync(file, `${block.code}\n`);
    for (const m of blocks.filter((b) => b.kind === 'file' && b.file === block.file))
      writeFileSync(join(dir, m.name!), `${m.code}\n`);
    const args = [concertBin, 'start', '--filename', file, '--non-interactive'];
    return queue(() => run(args, dir, { XDG_DATA_HOME: home }, 60_000));
  });
  const next = () => starts.shift()?.();
  for (let i = 0; i < parallel; i++) next();
  return { typeCheck, scripts };
}

describe('examples of the docs', function () {
  // Each test waits for its own job; the type check runs while the first scripts do.
  this.timeout(240_000);
  let home: string;
  let results: ReturnType<typeof runAll> | undefined;
  before(() => (home = mkdtempSync(join(tmpdir(), 'concert-docs-'))));
  after(() => rmSync(home, { recursive: true, force: true }));

  it('reads how each ```ts block is marked', () => {
    assert.deepEqual(
      tsBlocks(
        'x.md',
        'a\n```ts runnable\nconst a = 1;\n```\n```ts fragment needs a camera\nb\n```\n```ts\nc\n```\n```sh\nd\n```\n```ts file w.ts\ne\n```\n',
      ),
      [
        { file: 'x.md', line: 3, kind: 'runnable', code: 'const a = 1;' },
        { file: 'x.md', line: 6, kind: 'fragment', reason: 'needs a camera', code: 'b' },
        { file: 'x.md', line: 9, kind: 'unmarked', code: 'c' },
        { file: 'x.md', line: 15, kind: 'file', name: 'w.ts', code: 'e' },
      ],
    );
  });

  it('marks every ```ts block of README.md and docs/ runnable, or fragment with the reason', () => {
    assert.ok(runnable.length > 0, 'no ```ts runnable block in README.md or docs/');
    const unmarked = blocks.filter((b) => b.kind === 'unmarked').map((b) => `${b.file}:${b.line}`);
    assert.deepEqual(
      unmarked,
      [],
      'open these with ```ts runnable (a complete script), ```ts file <name>.ts or ```ts fragment <why it cannot run>',
    );
    const unexplained = blocks
      .filter((b) => b.kind === 'fragment' && b.reason!.length < 10)
      .map((b) => `${b.file}:${b.line}`);
    assert.deepEqual(unexplained, [], 'a ```ts fragment says in words why it cannot run');
  });

  it('the runnable examples type-check (tsc, as the repository)', async () => {
    results ??= runAll(home, 2);
    const r = await results.typeCheck;
    // Paths in tsc's messages are the examples' directories: <page>_<line>/<page>_<line>.ts.
    assert.equal(r.status, 0, `tsc found errors in the examples:\n${r.stdout}${r.stderr}`);
  });

  runnable.forEach((block, i) => {
    it(`${block.file}:${block.line} runs as a session script`, async () => {
      results ??= runAll(home, 2);
      const r = await results.scripts[i]!;
      assert.equal(r.status, 0, `${block.file}:${block.line} exited ${r.status}\n${r.stderr}\n${r.stdout}`);
    });
  });
});
