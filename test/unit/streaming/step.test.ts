import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { OptionError } from '../../../core/errors.js';
import { StreamingError } from '../../../streaming/errors.js';
import { OutputSet } from '../../../streaming/output-set.js';
import { SetFile } from '../../../streaming/set-file.js';
import { StreamingStep } from '../../../streaming/step.js';
import { delay, rejectsWith, since, within } from '../../support/async.js';
import { numbers, stopProcess, useTempDir } from './helpers.js';

const FULL_DISK_STEP = fileURLToPath(new URL('./fixtures/full-disk-step.ts', import.meta.url));

/** A producer that yields `n` numbers and then waits until aborted; `state.ended` once it has stopped. */
function endless(n: number, everyMs = 0) {
  const state = { ended: false };
  const producer = async function* (signal: AbortSignal) {
    try {
      for (let i = 0; i < n; i++) {
        if (everyMs) await delay(everyMs);
        yield i;
      }
      await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
    } finally {
      state.ended = true;
    }
  };
  return { producer, state };
}

describe('streaming/step', () => {
  const tmp = useTempDir();

  it('applies the function to every item, registering results in completion order with input index', async () => {
    const step = await StreamingStep.create({
      name: 'square',
      input: numbers(6),
      concurrency: 3,
      process: async (x: number) => {
        await delay((6 - x) * 15); // later inputs finish first
        return x * x;
      },
    });
    const info = await within(5000, step.output.closed, 'closing');
    assert.equal(info.reason, 'input-ended');
    assert.equal(step.state, 'closed');
    const items = step.output.items;
    assert.deepEqual(
      items.map((i) => i.index),
      [0, 1, 2, 3, 4, 5],
    );
    assert.deepEqual(
      [...items].sort((a, b) => a.inputIndex - b.inputIndex).map((i) => i.value),
      [0, 1, 4, 9, 16, 25],
    );
    assert.notDeepEqual(
      items.map((i) => i.inputIndex),
      [0, 1, 2, 3, 4, 5],
      'completion order, not input order',
    );
    for (const i of items) assert.ok(i.receivedAt <= i.startedAt && i.startedAt < i.finishedAt);
  });

  it('never runs more than `concurrency` items at once', async () => {
    let running = 0;
    let most = 0;
    const step = await StreamingStep.create({
      name: 'limited',
      input: numbers(12),
      concurrency: 2,
      process: async () => {
        most = Math.max(most, ++running);
        await delay(5);
        running--;
      },
    });
    await step.output.closed;
    assert.equal(most, 2);
    assert.equal(step.output.size, 12);
  });

  it('chains steps into a pipeline whose stages run at once and close in cascade', async () => {
    const a = await StreamingStep.create({ name: 'a', input: numbers(20, 2), process: (x: number) => x + 1 });
    const b = await StreamingStep.create({ name: 'b', input: a.output, process: (x: number) => x * 10 });
    const c = await StreamingStep.create({ name: 'c', input: b.output, process: (x: number) => `#${x}` });
    const [ia, ib, ic] = await within(5000, Promise.all([a.done, b.done, c.done]), 'the cascade');
    assert.deepEqual([ia.reason, ib.reason, ic.reason], ['input-ended', 'input-closed', 'input-closed']);
    assert.match(ib.message, /input closed: set 'a' was closed/);
    assert.deepEqual(
      c.output.items.map((i) => i.value),
      Array.from({ length: 20 }, (_, i) => `#${(i + 1) * 10}`),
    );
    // c's first item landed before a's last: the stages overlapped.
    assert.ok(c.output.get(0)!.finishedAt < a.output.get(19)!.finishedAt);
    assert.deepEqual(
      c.output.items.map((i) => i.inputKey),
      b.output.items.map((i) => String(i.index)),
    );
  });

  describe('stop criteria', () => {
    it('count: takes exactly that many items and stops the input', async () => {
      const { producer, state } = endless(100);
      const step = await StreamingStep.create({
        name: 'n',
        input: producer,
        process: (x: number) => x,
        stop: { count: 7 },
        concurrency: 3,
      });
      const info = await within(3000, step.done, 'count');
      assert.deepEqual([info.reason, info.message, step.output.size], ['count', 'count: 7 items', 7]);
      await delay(10);
      assert.equal(state.ended, true, 'the producer was stopped');
    });

    it('idle: closes when no new item came for idleMs', async () => {
      const { producer } = endless(3);
      const t0 = performance.now();
      const step = await StreamingStep.create({
        name: 'idle',
        input: producer,
        process: (x: number) => x,
        stop: { idleMs: 150 },
      });
      const info = await within(3000, step.done, 'idle');
      assert.equal(info.reason, 'idle');
      assert.equal(info.message, 'idle: no new item for 150 ms');
      assert.equal(step.output.size, 3);
      assert.ok(since(t0) >= 140);
    });

    it('duration: closes after the wall-clock duration', async () => {
      const { producer } = endless(1000, 5);
      const t0 = performance.now();
      const step = await StreamingStep.create({
        name: 'd',
        input: producer,
        process: (x: number) => x,
        stop: { durationMs: 200, idleMs: 5000 },
      });
      const info = await within(3000, step.done, 'duration');
      assert.equal(info.reason, 'duration');
      assert.ok(since(t0) >= 190 && since(t0) < 1500, `${since(t0)} ms`);
      assert.ok(step.output.size > 5 && step.output.size < 200);
    });

    it('stopStreaming(): finishes the items in flight and closes; the first criterion wins', async () => {
      const { producer } = endless(1000, 2);
      const step = await StreamingStep.create({
        name: 's',
        input: producer,
        concurrency: 4,
        process: async (x: number) => {
          await delay(30);
          return x;
        },
        stop: { durationMs: 60_000 },
      });
      await delay(100);
      const info = await within(2000, step.stopStreaming(), 'stopStreaming');
      assert.equal(info.reason, 'stopped');
      assert.equal(step.inFlight, 0);
      assert.equal(
        step.output.items.filter((i) => i.status === 'done').length,
        step.output.size,
        'items in flight finished',
      );
      assert.equal((await step.stopStreaming()).reason, 'stopped', 'a second call resolves the same');
    });

    it('a STOP file in the set folder stops the first step; the chained step sharing it closes in cascade with every item', async () => {
      const { producer } = endless(10_000, 3);
      const a = await StreamingStep.create({
        name: 'a',
        input: producer,
        process: (x: number) => x,
        set: join(tmp.path, 'a.sqlite'),
      });
      const b = await StreamingStep.create({
        name: 'b',
        input: a.output,
        set: join(tmp.path, 'b.sqlite'),
        process: async (x: number) => {
          await delay(4); // slower than a: it lags when STOP appears
          return x;
        },
      });
      await delay(150);
      writeFileSync(join(tmp.path, 'STOP'), '');
      const [ia, ib] = await within(5000, Promise.all([a.done, b.done]), 'STOP');
      assert.equal(ia.reason, 'stop-file');
      assert.match(ia.message, /stop file: .*STOP appeared/);
      assert.equal(ib.reason, 'input-closed');
      assert.equal(b.output.size, a.output.size, 'b processed every item a took');
      // A step started while the STOP file is there stops at once.
      const again = await StreamingStep.create({
        name: 'c',
        input: numbers(5, 50),
        process: (x: number) => x,
        set: join(tmp.path, 'c.sqlite'),
      });
      assert.equal((await within(2000, again.done, 'STOP at start')).reason, 'stop-file');
      assert.ok(again.output.size <= 1);
    });

    it('stops a producer that ignores its signal without hanging', async () => {
      const stubborn = async function* () {
        yield 1;
        await delay(5000);
      };
      const step = await StreamingStep.create({
        name: 'x',
        input: stubborn,
        process: (x: number) => x,
        stop: { idleMs: 50 },
      });
      const t0 = performance.now();
      await within(3000, step.done, 'stop');
      assert.ok(since(t0) < 1600);
    });
  });

  describe('failing items', () => {
    it('records a failing item with its error and goes on', async () => {
      const step = await StreamingStep.create({
        name: 'f',
        input: numbers(5),
        process: (x: number) => {
          if (x === 2) throw new Error('bad frame');
          return x;
        },
      });
      await step.done;
      assert.equal(step.output.size, 5);
      assert.equal(step.output.failed, 1);
      const failed = step.output.items.find((i) => i.status === 'failed')!;
      assert.deepEqual(
        [failed.inputKey, failed.error, failed.value, failed.attempts],
        ['2', 'bad frame', undefined, 1],
      );
      await rejectsWith(step.output.valueOf(failed), StreamingError, "set 'f': item 2 (input 2) failed: bad frame");
    });

    it("fails the step with onError 'fail': the set closes failed and the chained step fails in cascade", async () => {
      const a = await StreamingStep.create({
        name: 'a',
        input: numbers(50, 2),
        onError: 'fail',
        process: (x: number) => {
          if (x === 3) throw new Error('detector glitch');
          return x;
        },
      });
      const b = await StreamingStep.create({ name: 'b', input: a.output, process: (x: number) => x });
      await rejectsWith(a.done, StreamingError, "step 'a': item 3 (input 3) failed after 1 attempt: detector glitch");
      await rejectsWith(b.done, StreamingError, /step 'b': input set 'a' failed: step 'a': item 3/);
      assert.deepEqual([a.state, b.state], ['failed', 'failed']);
      assert.equal(a.output.closeInfo?.reason, 'failed');
      assert.ok(a.output.size >= 4 && a.output.size < 50);
    });

    it('retries with back-off, then succeeds; or records the last error after the last retry', async () => {
      const times: number[] = [];
      const step = await StreamingStep.create({
        name: 'r',
        input: numbers(2),
        retries: 2,
        retryDelayMs: 50,
        process: (x: number) => {
          if (x === 0) {
            times.push(performance.now());
            if (times.length < 3) throw new Error(`flaky ${times.length}`);
            return 'ok';
          }
          throw new Error('always');
        },
      });
      await step.done;
      const byKey = new Map(step.output.items.map((i) => [i.inputKey, i]));
      assert.deepEqual([byKey.get('0')!.status, byKey.get('0')!.attempts, byKey.get('0')!.value], ['done', 3, 'ok']);
      assert.deepEqual(
        [byKey.get('1')!.status, byKey.get('1')!.attempts, byKey.get('1')!.error],
        ['failed', 3, 'always'],
      );
      assert.ok(times[1]! - times[0]! >= 45, 'first retry after 50 ms');
      assert.ok(times[2]! - times[1]! >= 95, 'second retry after 100 ms (doubled)');
      assert.equal(step.summary().retries, 4);
    });

    it('records a result that cannot be stored as a failed item that says why', async () => {
      const step = await StreamingStep.create({
        name: 'big',
        input: numbers(1),
        process: () => 10n,
        set: join(tmp.path, 'big.sqlite'),
      });
      await step.done;
      assert.match(
        step.output.get(0)!.error!,
        /its result cannot be stored: a bigint \(10n\) cannot be stored as JSON; give the step a record/,
      );
    });
  });

  describe('persistence and resume', () => {
    it('resumes an open set without duplicates: items already there are skipped and count toward the count', async () => {
      const file = join(tmp.path, 'r.sqlite');
      const seen: number[] = [];
      const first = await StreamingStep.create({
        name: 'r',
        input: numbers(100, 2),
        set: file,
        process: (x: number) => {
          seen.push(x);
          return x * 2;
        },
      });
      await delay(60);
      await first.dispose(); // as a crash: the set stays open
      const before = first.output.size;
      assert.ok(before > 0 && before < 100, `${before} items before the "crash"`);
      const reopened = await OutputSet.open(file, { follow: false });
      assert.equal(reopened.state, 'open');
      assert.equal(reopened.size, before);

      const again = await StreamingStep.create({
        name: 'r',
        input: numbers(100),
        set: file,
        process: (x: number) => x * 2,
        stop: { count: 60 },
      });
      assert.equal(again.resumed, before);
      const info = await again.done;
      assert.equal(info.reason, 'count');
      assert.equal(again.output.size, Math.max(60, before));
      const keys = again.output.items.map((i) => i.inputKey);
      assert.equal(new Set(keys).size, keys.length, 'no duplicate');
      assert.deepEqual(
        again.output.items.slice(0, before).map((i) => i.inputKey),
        first.output.items.map((i) => i.inputKey),
        'the items committed before are unchanged',
      );
    });

    it('registers each item only once it is committed, in groups, in order, while the work goes on', async () => {
      const file = join(tmp.path, 'g.sqlite');
      const step = await StreamingStep.create({
        name: 'g',
        input: numbers(300),
        set: file,
        process: (x: number) => {
          const end = performance.now() + 0.2; // work on the main thread: groups are committed as they fill
          while (performance.now() < end);
          return x * 2;
        },
      });
      const reader = SetFile.openForReading(file); // another connection, as another process reads the file
      const notCommitted: number[] = [];
      const chained: number[] = [];
      step.output.items$.subscribe((item) => {
        if (reader.counts().items <= item.index) notCommitted.push(item.index);
      });
      const next = await StreamingStep.create({
        name: 'next',
        input: step.output,
        process: (x: number, { key }) => {
          if (reader.counts().items <= Number(key)) notCommitted.push(Number(key));
          chained.push(x);
          return x;
        },
      });
      await Promise.all([step.done, next.done]);
      reader.close();
      assert.deepEqual(notCommitted, [], 'items registered before they were committed');
      assert.deepEqual(
        step.output.items.map((i) => [i.index, i.inputKey, i.value]),
        Array.from({ length: 300 }, (_, i) => [i, String(i), i * 2]),
      );
      assert.deepEqual(
        chained,
        Array.from({ length: 300 }, (_, i) => i * 2),
      );
      const stored = (await OutputSet.open<number>(file)).items;
      assert.deepEqual(
        stored.map((i) => [i.index, i.inputKey, i.value]),
        Array.from({ length: 300 }, (_, i) => [i, String(i), i * 2]),
      );
    });

    it('a commit that fails in the background (a full disk) fails the step; a restart resumes without duplicates', async function () {
      this.timeout(60_000);
      const file = join(tmp.path, 'full', 'full.sqlite');
      // The file size limit stops the set file growing past 512 kB, as a full disk would.
      const child = spawn(
        'sh',
        ['-c', 'ulimit -f 1024 && exec "$0" --import tsx "$1" "$2"', process.execPath, FULL_DISK_STEP, file],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
      child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      const code = await within(
        50_000,
        new Promise((resolve) => child.once('exit', resolve)),
        'the step on a full disk ending',
      ).finally(() => stopProcess(child));
      assert.equal(code, 0, stderr);
      const outcome = JSON.parse(stdout) as { state: string; size: number; error: string };
      assert.equal(outcome.state, 'failed', stdout);
      assert.match(
        outcome.error,
        /^step 'full': cannot store items? \d+(–\d+)? in .*full\.sqlite: disk I\/O error \(SQLITE_IOERR_WRITE: is the disk full\?\)/,
      );
      // Every item the failed step had registered is in the file, and only those; the set is still open.
      const reopened = await OutputSet.open<{ i: number }>(file, { follow: false });
      assert.equal(reopened.state, 'open');
      assert.ok(outcome.size > 10, `${outcome.size} items before the disk was full`);
      assert.deepEqual(
        reopened.items.map((i) => [i.index, i.inputKey, i.value?.i]),
        Array.from({ length: outcome.size }, (_, i) => [i, String(i), i]),
      );
      const again = await StreamingStep.create({
        name: 'full',
        input: numbers(outcome.size + 20),
        set: file,
        process: (i: number) => ({ i }),
      });
      assert.equal(again.resumed, outcome.size);
      assert.equal((await again.done).reason, 'input-ended');
      assert.deepEqual(
        again.output.items.map((i) => i.inputKey),
        Array.from({ length: outcome.size + 20 }, (_, i) => String(i)),
      );
    });

    it('a step whose set is already closed does nothing and shows the closed set', async () => {
      const file = join(tmp.path, 'c.sqlite');
      await (
        await StreamingStep.create({ name: 'c', input: numbers(3), set: file, process: (x: number) => x })
      ).done;
      let calls = 0;
      const again = await StreamingStep.create({
        name: 'c',
        input: numbers(10),
        set: file,
        process: (x: number) => ++calls + x,
      });
      assert.equal(again.state, 'closed');
      assert.equal((await again.done).reason, 'input-ended');
      assert.equal(again.output.size, 3);
      assert.equal(calls, 0);
    });

    it('computes released values again for a chained step that starts late', async () => {
      let calls = 0;
      const source = await StreamingStep.create({ name: 'source', input: numbers(10), process: (x: number) => x });
      const a = await StreamingStep.create({
        name: 'a',
        input: source.output,
        keepValues: 0,
        process: (x: number) => {
          calls++;
          return new Float32Array([x]);
        },
      });
      await a.done;
      assert.equal(a.output.get(0)!.value, undefined, 'released');
      const b = await StreamingStep.create({ name: 'b', input: a.output, process: (v: Float32Array) => v[0]! * 3 });
      await b.done;
      assert.deepEqual(
        b.output.items.map((i) => i.value),
        Array.from({ length: 10 }, (_, i) => i * 3),
      );
      assert.equal(calls, 20, 'each computed once more from its input');
    });

    it('hands a chained step each value it took, even when the producing step runs ahead and releases', async () => {
      let calls = 0;
      const source = await StreamingStep.create({ name: 'source', input: numbers(200, 1), process: (x: number) => x });
      const a = await StreamingStep.create({
        name: 'a',
        input: source.output,
        keepValues: 0,
        highWaterMark: 8,
        concurrency: 4,
        process: (x: number) => {
          calls++;
          return new Float32Array([x]);
        },
      });
      const b = await StreamingStep.create({
        name: 'b',
        input: a.output,
        concurrency: 4,
        process: async (v: Float32Array) => {
          await delay(1);
          return v[0]!;
        },
      });
      await b.done;
      assert.equal(b.output.failed, 0);
      assert.equal(calls, 200, 'no value computed twice');
    });

    it('fails an item whose released value cannot be computed again (a producer gives each item once)', async () => {
      const a = await StreamingStep.create({
        name: 'a',
        input: numbers(3),
        keepValues: 0,
        process: (x: number) => new Float32Array([x]),
      });
      await a.done;
      const b = await StreamingStep.create({ name: 'b', input: a.output, process: (v: Float32Array) => v[0] });
      await b.done;
      assert.equal(b.output.failed, 3);
      assert.match(
        b.output.get(0)!.error!,
        /cannot get the input: set 'a': the value of item 0 is no longer in memory and its input cannot be read again: the producer cannot give input 0 again/,
      );
    });

    it('refuses a set file another step of this process writes, and a file that is not a set', async () => {
      const file = join(tmp.path, 'x.sqlite');
      const { producer } = endless(0);
      const a = await StreamingStep.create({ name: 'x', input: producer, process: (x: number) => x, set: file });
      await rejectsWith(
        StreamingStep.create({ name: 'x', input: producer, process: (x: number) => x, set: file }),
        StreamingError,
        /set file .*x\.sqlite is already written by a step in this process/,
      );
      await a.stopStreaming();
      writeFileSync(join(tmp.path, 'not.sqlite'), 'hello');
      await rejectsWith(
        StreamingStep.create({
          name: 'y',
          input: producer,
          process: (x: number) => x,
          set: join(tmp.path, 'not.sqlite'),
        }),
        StreamingError,
        /cannot use .*not\.sqlite as a set file: file is not a database/,
      );
      assert.ok(existsSync(file));
    });
  });

  describe('options', () => {
    const input = numbers(1);
    const cases: [string, unknown, string | RegExp][] = [
      [
        'an unknown option, with the closest one',
        { name: 'a', input, process: () => 1, cuncurrency: 2 },
        "StreamingStep.create: unknown option 'cuncurrency', did you mean 'concurrency'? (allowed: concurrency, " +
          'highWaterMark, input, keepValues, key, name, onError, process, record, retries, retryDelayMs, set, stop, worker, workerConfig)',
      ],
      [
        'an unknown stop criterion',
        { name: 'a', input, process: () => 1, stop: { cuont: 2 } },
        "StreamingStep.create: unknown option 'stop.cuont', did you mean 'stop.count'? (allowed: stop.count, " +
          'stop.durationMs, stop.idleMs, stop.stopFile)',
      ],
      [
        'neither process nor worker',
        { name: 'a', input },
        'StreamingStep.create: give exactly one of process: (input, context) => result or worker: a module path or URL',
      ],
      [
        'both process and worker',
        { name: 'a', input, process: () => 1, worker: 'w.ts' },
        /give exactly one of process/,
      ],
      [
        'a bad concurrency',
        { name: 'a', input, process: () => 1, concurrency: 0 },
        "StreamingStep.create: option 'concurrency' must be an integer in [1, Infinity], got 0",
      ],
      [
        'a bad count',
        { name: 'a', input, process: () => 1, stop: { count: 1.5 } },
        "StreamingStep.create: option 'stop.count' must be an integer in [1, Infinity], got 1.5",
      ],
      [
        'a bad onError',
        { name: 'a', input, process: () => 1, onError: 'skip' },
        `StreamingStep.create: option 'onError' must be one of "record", "fail", got "skip"`,
      ],
      [
        'a bad input',
        { name: 'a', input: [1, 2], process: () => 1 },
        "StreamingStep.create: option 'input' must be an OutputSet (another step’s output), a DirectoryWatcher or a " +
          'producer (signal) => AsyncIterable, got [1, 2]',
      ],
      ['no name', { input, process: () => 1 }, "StreamingStep.create: option 'name' is required (a string)"],
    ];
    for (const [what, options, message] of cases)
      it(`rejects ${what}`, async () => {
        await rejectsWith(StreamingStep.create(options as never), OptionError, message);
      });
  });
});
