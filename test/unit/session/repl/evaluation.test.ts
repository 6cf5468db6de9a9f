import assert from 'node:assert/strict';
import { ambientSignal, ConcertError } from '../../../../core/index.js';
import { TestRepl } from './support.js';

describe('session/repl/evaluation', () => {
  let t: TestRepl | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it('runs TypeScript with top-level await; bindings persist between lines', async () => {
    t = new TestRepl({ evalAnswer: async () => 21 });
    assert.equal(await t.run('const evalX: number = await evalAnswer()'), '');
    assert.equal(await t.run('evalX * 2'), '42');
    assert.equal(await t.run('interface P { a: number }', 'const evalP: P = { a: 1 }; evalP.a'), '1');
    assert.equal(await t.run('{ a: 1 }'), '{ a: 1 }');
  });

  it('reads more lines while a statement is open', async () => {
    t = new TestRepl();
    t.line('function evalTwice(x: number) {');
    t.line('  return 2 * x');
    assert.equal(await t.run('}'), '');
    assert.match(t.output, /t > \.\.\. \.\.\. t > $/, 'continuation prompts, then the prompt');
    assert.equal(await t.run('evalTwice(4)'), '8');
  });

  it('prints syntax errors, Concert errors and others in one line each; exits 1 after errors', async () => {
    t = new TestRepl({
      evalFail: () => {
        throw new ConcertError('m.position: 12 mm is out of range');
      },
    });
    assert.equal(await t.run('const = 5'), 'SyntaxError: Variable declaration expected. (at <prompt>:1:7)');
    assert.equal(await t.run('evalFail()'), 'Sorry, m.position: 12 mm is out of range');
    assert.match(
      await t.run('await Promise.reject(new TypeError("bad"))'),
      /^TypeError: bad \(at <prompt>\)$/,
      'no column from the rewritten input',
    );
    assert.match(await t.run('evalNope.x'), /^ReferenceError: evalNope is not defined \(at <prompt>:1:1\)$/);
    assert.equal(await t.run('1 + 1'), '2', 'the REPL goes on');
    const closing = t;
    t = undefined;
    assert.equal(await closing.close(), 1);
  });

  it('runs each command in its own abort scope', async () => {
    const signals: Array<AbortSignal | undefined> = [];
    t = new TestRepl({ evalScope: () => signals.push(ambientSignal()) });
    await t.run('evalScope()', 'await Promise.resolve(); evalScope()');
    assert.equal(signals.length, 2);
    assert.ok(signals[0] instanceof AbortSignal && signals[1] instanceof AbortSignal);
    assert.notEqual(signals[0], signals[1]);
    assert.equal(t.repl.commands.current, undefined, 'no command after the prompt is back');
  });

  it('runs piped lines in order, each after the previous one ended', async () => {
    const order: string[] = [];
    t = new TestRepl({ evalLog: (s: string) => order.push(s) });
    await t.run('await new Promise((r) => setTimeout(r, 50)); evalLog("slow")', 'evalLog("fast")');
    assert.deepEqual(order, ['slow', 'fast']);
  });
});
