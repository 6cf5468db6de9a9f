import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { inspect } from 'node:util';
import { join } from 'node:path';
import { firstValueFrom, toArray } from 'rxjs';
import { OutputSet, type CompletedItem } from '../../../streaming/output-set.js';
import { SetFile } from '../../../streaming/set-file.js';
import { StreamingError } from '../../../streaming/errors.js';
import { toRecord } from '../../../streaming/item.js';
import { delay, rejectsWith, within } from '../../support/async.js';
import { requireTool } from '../../support/tools.js';
import { flatFrame, sqlite3, until, useTempDir } from './helpers.js';

/** Items in a set file, as another process (Debian's `sqlite3`) reads them. */
const countIn = (path: string) => Number(sqlite3(path, 'SELECT count(*) FROM items')[0]![0]);

/** Runs a statement on a set file with Debian's `sqlite3` in another process. */
function sqlite3w(path: string, statement: string): void {
  execFileSync('sqlite3', ['-cmd', '.timeout 5000', path, statement], { timeout: 10_000, stdio: 'ignore' });
}

function completed<T>(key: number | string, value: T, extra: Partial<CompletedItem<T>> = {}): CompletedItem<T> {
  const { record, own } = toRecord(value);
  return {
    inputIndex: typeof key === 'number' ? key : 0,
    inputKey: String(key),
    status: 'done',
    value,
    record,
    own,
    attempts: 1,
    receivedAt: Date.now(),
    startedAt: Date.now(),
    ...extra,
  };
}

const close = <T>(set: OutputSet<T>, reason: 'count' | 'failed' = 'count', failure?: unknown) =>
  set.close({ reason, at: Date.now(), message: `${reason}: test` }, failure);

describe('streaming/output-set', () => {
  const tmp = useTempDir();

  it('registers items in completion order with their input index, key and timestamps', () => {
    const set = new OutputSet<number>({ name: 'a' });
    set.register(completed(3, 30));
    set.register(completed(1, 10, { status: 'failed', value: undefined, error: 'boom', attempts: 3 }));
    assert.equal(set.size, 2);
    assert.equal(set.failed, 1);
    const [first, second] = set.items;
    assert.deepEqual([first!.index, first!.inputIndex, first!.inputKey, first!.value], [0, 3, '3', 30]);
    assert.deepEqual(
      [second!.index, second!.inputKey, second!.status, second!.error, second!.attempts],
      [1, '1', 'failed', 'boom', 3],
    );
    assert.ok(first!.receivedAt <= first!.startedAt + 1 && first!.startedAt <= first!.finishedAt);
    assert.ok(set.has('3') && !set.has('4'));
    assert.equal(inspect(set), "OutputSet 'a' open: 2 items, 1 failed");
  });

  it('refuses a second item of the same input and any item once closed', () => {
    const set = new OutputSet<number>({ name: 'a' });
    set.register(completed(0, 0));
    assert.throws(() => set.register(completed(0, 1)), /set 'a' already has an item of input "0"/);
    close(set);
    assert.throws(() => set.register(completed(1, 1)), /set 'a' is closed; item "1" came too late/);
  });

  it('resolves closed with the close info, or rejects with the failure', async () => {
    const ok = new OutputSet({ name: 'ok' });
    close(ok);
    assert.equal((await ok.closed).reason, 'count');
    assert.equal(ok.state, 'closed');
    const bad = new OutputSet({ name: 'bad' });
    close(bad, 'failed', new StreamingError('step failed'));
    await rejectsWith(bad.closed, StreamingError, 'step failed');
    assert.equal(bad.closeInfo?.reason, 'failed');
  });

  it('streams new items and the state as observables that complete on close', async () => {
    const set = new OutputSet<number>({ name: 'a' });
    set.register(completed(0, 0));
    const items = firstValueFrom(set.items$.pipe(toArray()));
    const states = firstValueFrom(set.state$.pipe(toArray()));
    set.register(completed(1, 1));
    set.register(completed(2, 2));
    close(set);
    assert.deepEqual(
      (await items).map((i) => i.value),
      [1, 2],
    );
    assert.deepEqual(await states, ['open', 'closed']);
    assert.deepEqual(await firstValueFrom(set.state$.pipe(toArray())), ['closed']);
  });

  it('iterates every item from the first, then new ones, until it closes', async () => {
    const set = new OutputSet<number>({ name: 'a' });
    set.register(completed(0, 0));
    const seen: number[] = [];
    const done = (async () => {
      for await (const item of set) seen.push(item.value!);
    })();
    await delay(5);
    set.register(completed(1, 1));
    await delay(5);
    close(set);
    await within(1000, done, 'iteration');
    assert.deepEqual(seen, [0, 1]);
  });

  it('makes the producing step wait while a chained reader lags past the high-water mark', async () => {
    const set = new OutputSet<number>({ name: 'a', highWaterMark: 2 });
    const reader = set.reader();
    assert.equal(set.register(completed(0, 0)), undefined);
    assert.equal(set.register(completed(1, 1)), undefined);
    const wait = set.register(completed(2, 2));
    assert.ok(wait, 'a lag of 3 > 2 makes the producer wait');
    let released = false;
    void wait.then(() => (released = true));
    await delay(5);
    assert.equal(released, false);
    await reader.next();
    await delay(0);
    assert.equal(released, true);
    await reader.return();
  });

  it('releases frame values nobody needs beyond keepValues, keeps plain JSON, and computes released ones again', async () => {
    const set = new OutputSet<unknown>({ name: 'a', keepValues: 1 });
    set.register(completed(0, flatFrame(1)));
    set.register(completed(1, { mean: 2 }));
    set.register(completed(2, flatFrame(3)));
    assert.equal(set.get(0)!.value, undefined, 'released');
    const { frame } = set.get(0)!.record as {
      frame: { shape: number[]; dtype: string; metadata: { frameNumber: number } };
    };
    assert.deepEqual([frame.shape, frame.dtype, frame.metadata.frameNumber], [[8, 8], 'uint16', 0]);
    assert.deepEqual(set.get(1)!.value, { mean: 2 }, 'plain JSON stays');
    assert.ok(set.get(2)!.value, 'the newest stays');
    await rejectsWith(
      set.valueOf(0),
      StreamingError,
      /item 0 \(input 0\) is not in memory and no step can compute it again/,
    );
    set.recover = async (item) => flatFrame(Number(item.inputKey) + 1);
    assert.equal(((await set.valueOf(0)) as ReturnType<typeof flatFrame>).data[0], 1);
  });

  it('keeps values a holding reader has not taken yet', async () => {
    const set = new OutputSet<unknown>({ name: 'a', keepValues: 0, highWaterMark: 100 });
    const reader = set.reader();
    for (let i = 0; i < 5; i++) set.register(completed(i, flatFrame(i)));
    for (let i = 0; i < 5; i++) assert.ok(set.get(i)!.value, `item ${i} kept for the reader`);
    await reader.next();
    await reader.next();
    assert.equal(set.get(0)!.value, undefined);
    assert.equal(set.get(1)!.value, undefined);
    assert.ok(set.get(2)!.value);
    await reader.return();
  });

  it('fails a reader with the failure of the set it reads', async () => {
    const set = new OutputSet<number>({ name: 'a' });
    const reader = set.reader();
    set.register(completed(0, 0));
    close(set, 'failed', new StreamingError('boom'));
    assert.equal((await reader.next()).value?.value, 0);
    await rejectsWith(reader.next(), StreamingError, 'boom');
  });

  describe('with a file', () => {
    it('commits each item and reopens with them, state, and plain values (frames as records)', () => {
      const path = join(tmp.path, 'a.sqlite');
      const file = SetFile.openForWriting(path, { name: 'a', step: 'a', input: 'a producer' });
      const set = new OutputSet<unknown>({ name: 'a', file });
      set.register(completed('x.tif', { mean: 1.5 }));
      set.register(completed('y.tif', flatFrame(2)));
      set.register(completed('z.tif', undefined, { status: 'failed', error: 'bad file', attempts: 2 }));
      set.detachFile(); // as a crash would leave it
      const again = new OutputSet<unknown>({
        name: 'a',
        file: SetFile.openForWriting(path, { name: 'a', step: 'a', input: '' }),
      });
      assert.equal(again.state, 'open');
      assert.equal(again.size, 3);
      assert.equal(again.failed, 1);
      assert.deepEqual(again.get(0)!.value, { mean: 1.5 });
      assert.equal(again.get(1)!.value, undefined);
      assert.deepEqual((again.get(1)!.record as { frame: { shape: number[] } }).frame.shape, [8, 8]);
      assert.deepEqual([again.get(2)!.status, again.get(2)!.error, again.get(2)!.attempts], ['failed', 'bad file', 2]);
      assert.ok(again.has('y.tif'));
      close(again);
    });

    it('commits the items handed over in a group once the event loop is free, and only then registers them', async function () {
      requireTool(this, 'sqlite3', 'sqlite3');
      const path = join(tmp.path, 'g.sqlite');
      const set = new OutputSet<number>({
        name: 'g',
        file: SetFile.openForWriting(path, { name: 'g', step: 'g', input: '' }),
      });
      const committedWhenRegistered: [number, number][] = [];
      set.items$.subscribe((item) => committedWhenRegistered.push([item.index, countIn(path)]));
      for (let i = 0; i < 5; i++) set.register(completed(i, i * 10));
      assert.equal(set.size, 0, 'not registered before it is committed');
      assert.equal(countIn(path), 0);
      assert.ok(!set.has('0'));
      assert.throws(() => set.register(completed(2, 0)), /set 'g' already has an item of input "2"/);
      await until(() => set.size === 5, 10_000, 'the group being committed');
      assert.deepEqual(
        set.items.map((i) => [i.index, i.inputKey, i.value]),
        [0, 1, 2, 3, 4].map((i) => [i, String(i), i * 10]),
      );
      // Each item was in the file (as another process reads it) when the set told its subscribers.
      assert.deepEqual(
        committedWhenRegistered,
        [0, 1, 2, 3, 4].map((i) => [i, 5]),
      );
      set.register(completed(5, 50));
      close(set); // commits the last group first
      assert.deepEqual(sqlite3(path, 'SELECT idx, input_key FROM items ORDER BY idx').at(-1), ['5', '5']);
      assert.deepEqual(sqlite3(path, 'SELECT state, items FROM summary'), [['closed', '6']]);
    });

    it('commits a group at once when it is full, or when one more item would make its oldest wait too long', () => {
      const path = join(tmp.path, 'f.sqlite');
      const set = new OutputSet<number>({
        name: 'f',
        file: SetFile.openForWriting(path, { name: 'f', step: 'f', input: '' }),
        group: { maxItems: 4, maxAgeMs: 50 },
      });
      for (let i = 0; i < 10; i++) set.register(completed(i, i));
      assert.equal(set.size, 8, 'two full groups committed while the step goes on');
      // An item whose work took longer than maxAgeMs: waiting for another would exceed it.
      set.register(completed(10, 10, { startedAt: Date.now() - 60 }));
      assert.equal(set.size, 11);
      set.register(completed(11, 11));
      set.detachFile(); // commits it first
      const again = new OutputSet<number>({
        name: 'f',
        file: SetFile.openForWriting(path, { name: 'f', step: 'f', input: '' }),
      });
      assert.equal(again.state, 'open');
      assert.deepEqual(
        again.items.map((i) => [i.index, i.value]),
        Array.from({ length: 12 }, (_, i) => [i, i]),
      );
      close(again);
    });

    it('a group that cannot be committed is not registered, fails the set and leaves the file open', async function () {
      requireTool(this, 'sqlite3', 'sqlite3');
      const path = join(tmp.path, 'e.sqlite');
      const set = new OutputSet<number>({
        name: 'e',
        file: SetFile.openForWriting(path, { name: 'e', step: 'e', input: '' }),
      });
      const failures: StreamingError[] = [];
      set.onCommitError = (error) => failures.push(error);
      set.register(completed('a', 1));
      set.flush();
      // Another process writes the next index into the file: the next group cannot be committed.
      sqlite3w(path, `INSERT INTO items VALUES (1, 9, 'intruder', 'done', '1', 1, NULL, 1, 0, 0, 0)`);
      set.register(completed('b', 2));
      set.register(completed('c', 3));
      await until(() => failures.length > 0, 10_000, 'the commit failing');
      assert.match(
        failures[0]!.message,
        /^cannot store items 1–2 in .*e\.sqlite: UNIQUE constraint failed: items\.idx; none of these 2 items was committed$/,
      );
      assert.deepEqual(
        set.items.map((i) => i.inputKey),
        ['a'],
      );
      assert.throws(
        () => set.register(completed('d', 4)),
        (e) => e === failures[0],
      );
      assert.throws(
        () => close(set),
        (e) => e === failures[0],
      );
      assert.equal(set.state, 'closed');
      assert.equal(set.closeInfo!.reason, 'failed');
      await rejectsWith(set.closed, StreamingError, /^cannot store items 1–2 in /);
      assert.deepEqual(sqlite3(path, 'SELECT state, items FROM summary'), [['open', '2']]);
    });

    it('OutputSet.open follows a set another writer fills until it closes', async () => {
      const path = join(tmp.path, 'b.sqlite');
      const writer = new OutputSet<number>({
        name: 'b',
        file: SetFile.openForWriting(path, { name: 'b', step: 'b', input: '' }),
      });
      writer.register(completed(0, 0));
      writer.flush(); // committed now rather than when the event loop is free
      const reader = await OutputSet.open<number>(path);
      assert.equal(reader.size, 1);
      const arrived = firstValueFrom(reader.items$.pipe(toArray()));
      writer.register(completed(1, 1));
      writer.register(completed(2, 2));
      close(writer);
      const info = await within(3000, reader.closed, 'the follower closing');
      assert.equal(info.reason, 'count');
      assert.deepEqual(
        (await arrived).map((i) => i.value),
        [1, 2],
      );
      assert.equal(reader.size, 3);
    });
  });
});
