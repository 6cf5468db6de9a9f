import assert from 'node:assert/strict';
import {
  Device,
  LockError,
  ParameterError,
  q,
  ReadAccessError,
  runningOperations,
  soft,
  WaitError,
  WriteAccessError,
  type Unit,
} from '../../../core/index.js';
import { rejectsWith, throwsWith } from '../../support/async.js';
import { captureLog } from '../../support/log.js';

class Thing extends Device {
  readonly count = this.parameter<number>('count', soft(0));
  readonly label = this.parameter<string>('label', soft('a'));
  readonly serial = this.parameter<string>('serial', { read: () => 'SN-1' });
  written: string[] = [];
  readonly command = this.parameter<string>('command', { write: (v) => void this.written.push(v) });
  readonly position = this.quantity('position', { unit: 'mm', ...soft(0) });
  release = () => {};
  readonly slow = this.parameter<number>('slow', {
    read: () => {
      throw new Error('sensor unplugged');
    },
    write: () => new Promise<void>((resolve) => (this.release = resolve)),
  });
}

const make = () => Thing.create({ name: 'thing' });

describe('core/parameter', () => {
  it('gets and sets a soft parameter', async () => {
    const t = await make();
    assert.equal(await t.count.get(), 0);
    await t.count.set(3);
    assert.equal(await t.count.get(), 3);
    assert.equal(t.count.fullName, 'thing.count');
    assert.ok(t.count.readable && t.count.writable);
  });

  it('hooks without a signal: an aborted signal rejects first, a throw rejects, a promise is a running operation', async () => {
    const t = await make();
    const aborted = AbortSignal.abort(new Error('stop now'));
    await assert.rejects(t.count.set(5, { signal: aborted }), /stop now/);
    await assert.rejects(t.count.get({ signal: aborted }), /stop now/);
    assert.equal(await t.count.get(), 0, 'the aborted set left the value');
    const slow = t.slow;
    const pendingGet = slow.get();
    assert.ok(pendingGet instanceof Promise, 'a hook that throws gives a rejected promise, not a throw');
    await assert.rejects(pendingGet, /sensor unplugged/);
    const before = runningOperations();
    const pendingSet = slow.set(1);
    assert.equal(runningOperations(), before + 1);
    t.release();
    await pendingSet;
    assert.equal(runningOperations(), before);
  });

  it('refuses to write a read-only parameter (WriteAccessError) and to read a write-only one (ReadAccessError)', async () => {
    const t = await make();
    await rejectsWith(t.serial.set('x'), WriteAccessError, 'thing.serial cannot be written (it is read-only)');
    assert.equal(await t.serial.get(), 'SN-1');
    await rejectsWith(t.command.get(), ReadAccessError, 'thing.command cannot be read (it is write-only)');
    await t.command.set('go');
    assert.deepEqual(t.written, ['go']);
    await rejectsWith(t.count.getTarget(), ReadAccessError, /has no target value/);
  });

  it('refuses NaN, Infinity and undefined for plain parameters, leaving the value', async () => {
    const t = await make();
    await t.count.set(2);
    await rejectsWith(t.count.set(NaN), ParameterError, 'thing.count: NaN is not a finite number');
    await rejectsWith(t.count.set(Infinity), ParameterError, /Infinity is not a finite number/);
    await rejectsWith(t.count.set(undefined as never), ParameterError, /a value is required/);
    assert.equal(await t.count.get(), 2);
  });

  it('lock() makes set() fail with LockError until unlock(); a permanent lock stays', async () => {
    const t = await make();
    t.count.lock();
    assert.ok(t.count.locked);
    await rejectsWith(t.count.set(1), LockError, 'thing.count is locked; unlock() it first');
    assert.equal(await t.count.get(), 0, 'get still works');
    t.count.unlock();
    await t.count.set(1);
    t.count.lock(true);
    assert.ok(t.count.lockedPermanently);
    await rejectsWith(t.count.set(2), LockError, 'thing.count is locked permanently');
    throwsWith(() => t.count.unlock(), LockError, 'thing.count is locked permanently');
    t.count.lock(false);
    await rejectsWith(t.count.set(2), LockError, /permanently/);
    assert.equal(await t.count.get(), 1);
  });

  it('stash/restore is a LIFO stack (stash 1, stash 2, set 0.123 → 2 → 1)', async () => {
    const t = await make();
    const mm = async () => (await t.position.get()).toNumber('mm');
    await t.position.set(q('1 mm'));
    await t.position.stash();
    await t.position.set(q('2 mm'));
    await t.position.stash();
    await t.position.set(q('0.123 mm'));
    assert.equal(t.position.stashed, 2);
    await t.position.restore();
    assert.equal(await mm(), 2);
    await t.position.restore();
    assert.equal(await mm(), 1);
    assert.equal(t.position.stashed, 0);
    await rejectsWith(t.position.restore(), ParameterError, 'thing.position: nothing stashed to restore');
  });

  it('keeps the stashed value when restoring fails (e.g. locked)', async () => {
    const t = await make();
    await t.count.stash();
    await t.count.set(5);
    t.count.lock();
    await rejectsWith(t.count.restore(), LockError);
    assert.equal(t.count.stashed, 1);
    t.count.unlock();
    await t.count.restore();
    assert.equal(await t.count.get(), 0);
  });

  it('refuses to stash read-only or write-only parameters', async () => {
    const t = await make();
    await rejectsWith(t.serial.stash(), WriteAccessError, /thing\.serial cannot be stashed/);
    await rejectsWith(t.command.stash(), WriteAccessError, /thing\.command cannot be stashed/);
  });

  it('wait() resolves on equality and times out with WaitError', async () => {
    const t = await make();
    setTimeout(() => void t.label.set('b'), 20);
    await t.label.wait('b', { timeoutMs: 1000, intervalMs: 5 });
    await rejectsWith(
      t.label.wait('zzz', { timeoutMs: 30, intervalMs: 5 }),
      WaitError,
      'thing.label: did not reach zzz within 30 ms (last value b)',
    );
  });

  it('wait() is aborted by its signal', async () => {
    const t = await make();
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 20);
    const t0 = performance.now();
    await assert.rejects(t.label.wait('never', { signal: controller.signal, intervalMs: 5 }), { name: 'AbortError' });
    assert.ok(performance.now() - t0 < 200);
  });

  it('observe() emits every value read or written', async () => {
    const t = await make();
    const seen: number[] = [];
    const sub = t.count.observe().subscribe((v) => seen.push(v));
    await t.count.set(4);
    await t.count.get();
    await t.count.set(NaN).catch(() => undefined);
    sub.unsubscribe();
    await t.count.set(5);
    assert.deepEqual(seen, [4, 4]);
  });

  it('logs sets of plain parameters with their kind', async () => {
    const t = await make();
    const lines = await captureLog(() => t.label.set('hello'));
    assert.deepEqual(
      lines.map((l) => l.message),
      ["set Thing::thing.label='hello'"],
    );
    const more = await captureLog(() => t.count.set(7));
    assert.deepEqual(
      more.map((l) => l.message),
      ["set Thing::thing.count='7'"],
    );
  });

  it('typed accessors type-check: a Unit comes back from a quantity', async () => {
    const t = await make();
    const u: Unit = await t.position.get();
    assert.equal(u.toNumber('mm'), 0);
  });
});
