import assert from 'node:assert/strict';
import { runningOperations, sleep, startOperation } from '../../../../core/index.js';
import { TestRepl } from './support.js';

/** An operation that ends `lag` ms after it is aborted. */
async function stubborn(lag: number): Promise<void> {
  const op = startOperation();
  try {
    await new Promise<void>((resolve) => op.signal.addEventListener('abort', () => setTimeout(resolve, lag)));
  } finally {
    op.done();
  }
}

describe('session/repl/interrupt', () => {
  let t: TestRepl | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it('Ctrl-C interrupts the await and aborts what the command started; the prompt comes back', async () => {
    let aborted: unknown;
    t = new TestRepl({
      intLongMove: async () => {
        const op = startOperation();
        try {
          await sleep(20_000, op.signal);
        } catch (error) {
          aborted = error;
          throw error;
        } finally {
          op.done();
        }
      },
    });
    const prompts = t.prompts();
    t.line('await intLongMove()');
    await t.waitFor(() => runningOperations() === 1);
    t.repl.server.emit('SIGINT');
    await t.waitFor(() => t!.prompts() > prompts);
    assert.match(t.output, /Interrupted \(Ctrl-C\): stopping what the command started/);
    assert.equal((aborted as Error)?.name, 'AbortError');
    assert.equal(runningOperations(), 0);
    assert.equal(await t.run('1 + 2'), '3');
  });

  it('waits for the cleanup before the prompt; says so after the notice time; Ctrl-C twice stops waiting', async () => {
    t = new TestRepl({ intStubborn: stubborn }, { cleanupNoticeMs: 50 });
    const prompts = t.prompts();
    t.line('await intStubborn(3000)');
    await t.waitFor(() => runningOperations() === 1);
    t.repl.server.emit('SIGINT');
    await t.waitFor(() => t!.output.includes('Still stopping 1 operation(s)…'));
    assert.equal(t.prompts(), prompts, 'no prompt while cleaning up');
    t.repl.server.emit('SIGINT');
    await t.waitFor(() => /Still cleaning up after Ctrl-C \(1 operation\(s\) running\)/.test(t!.output));
    t.repl.server.emit('SIGINT');
    await t.waitFor(() => t!.prompts() > prompts);
    assert.match(t.output, /Stopped waiting for the cleanup; it goes on in the background/);
    await t.waitFor(() => runningOperations() === 0, 5000);
  });

  it('a quick cleanup brings the prompt back without a notice', async () => {
    t = new TestRepl({ intQuick: stubborn }, { cleanupNoticeMs: 1000 });
    const prompts = t.prompts();
    t.line('await intQuick(100)');
    await t.waitFor(() => runningOperations() === 1);
    t.repl.server.emit('SIGINT');
    await t.waitFor(() => t!.prompts() > prompts);
    assert.equal(runningOperations(), 0, 'the prompt came back after the operation ended');
    assert.doesNotMatch(t.output, /Still stopping/);
  });
});
