/**
 * Waiting for a start instant as a camera server does: never before it, how late after it, and
 * refusing an instant too far ahead.
 */
import assert from 'node:assert/strict';
import { waitUntil } from '../../../../conductor/host/wait.js';
import { preciseNow } from '../../../../walkers/formats/index.js';

describe('waitUntil (conductor/host)', function () {
  this.timeout(20_000);

  it('ends at the instant, never before it, through the timer and the futex parts', async () => {
    for (const ahead of [5, 40]) {
      const at = preciseNow() + ahead;
      const late = await waitUntil(at);
      const woke = preciseNow();
      assert.ok(woke >= at, `${ahead} ms ahead: woke ${(at - woke).toFixed(3)} ms early`);
      assert.ok(late >= 0 && late <= woke - at, `${ahead} ms ahead: late ${late} ms, woke ${woke - at} ms after`);
    }
  });

  it('an instant already past ends at once and says how late', async () => {
    const at = preciseNow() - 25;
    const late = await waitUntil(at);
    assert.ok(late >= 25 && late <= preciseNow() - at, `late ${late} ms`);
  });

  it('refuses an instant more than 10 s ahead, and stops waiting when aborted', async () => {
    await assert.rejects(waitUntil(preciseNow() + 60_000), /startAt is \d+ ms ahead \(at most 10 s\)/);
    const controller = new AbortController();
    const waiting = waitUntil(preciseNow() + 5000, controller.signal);
    controller.abort(new DOMException('stopped', 'AbortError'));
    await assert.rejects(waiting, { name: 'AbortError' });
  });
});
