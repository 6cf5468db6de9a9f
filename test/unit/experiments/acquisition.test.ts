import assert from 'node:assert/strict';
import { makeFrame, sleep, withAbortScope, abortAll, type Frame } from '../../../core/index.js';
import {
  Acquisition,
  AcquisitionError,
  ConsumerError,
  frameConsumer,
  type FrameConsumer,
} from '../../../experiments/index.js';

/** A producer of `n` tiny frames, `periodMs` apart; records how far it got and whether it was closed. */
function counting(n: number, periodMs = 0) {
  const log = { produced: 0, closed: false, aborted: false };
  const producer = async function* (signal: AbortSignal): AsyncGenerator<Frame> {
    try {
      for (let i = 0; i < n; i++) {
        if (periodMs) await sleep(periodMs, signal);
        log.produced++;
        yield makeFrame(new Uint16Array([i, i]), [1, 2], { frameNumber: i });
      }
    } catch (error) {
      log.aborted = signal.aborted;
      throw error;
    } finally {
      log.closed = true;
    }
  };
  return { producer, log };
}

function collector(
  name: string,
  options: { policy?: 'lossless' | 'latest'; delayMs?: number; queueSize?: number } = {},
) {
  const seen: number[] = [];
  const c = frameConsumer(
    name,
    async (frames) => {
      for await (const f of frames) {
        seen.push(f.metadata.frameNumber);
        if (options.delayMs) await sleep(options.delayMs);
      }
    },
    { policy: options.policy, queueSize: options.queueSize },
  );
  return { consumer: c, seen };
}

describe('experiments/acquisition', () => {
  it('broadcasts every frame, by reference, to every lossless consumer', async () => {
    const { producer } = counting(50);
    const acq = await Acquisition.create('radios', producer);
    const got: Frame[][] = [[], []];
    for (const i of [0, 1])
      acq.attach(
        frameConsumer(`c${i}`, async (frames) => {
          for await (const f of frames) got[i]!.push(f);
        }),
      );
    const result = await acq.run();
    assert.equal(result.frames, 50);
    assert.equal(got[0]!.length, 50);
    assert.deepEqual(
      got[0]!.map((f) => f.metadata.frameNumber),
      [...Array(50).keys()],
    );
    for (let i = 0; i < 50; i++) assert.equal(got[0]![i], got[1]![i], 'the same frame object reaches both consumers');
    assert.deepEqual(result.consumers.c0, { frames: 50, dropped: 0 });
  });

  it('lossless: a slow consumer gets every frame and holds back the producer (bounded queue)', async () => {
    const { producer, log } = counting(30);
    const acq = await Acquisition.create('radios', producer);
    let maxAhead = 0;
    const seen: number[] = [];
    acq.attach(
      frameConsumer(
        'slow',
        async (frames) => {
          for await (const f of frames) {
            seen.push(f.metadata.frameNumber);
            maxAhead = Math.max(maxAhead, log.produced - seen.length);
            await sleep(2);
          }
        },
        { queueSize: 3 },
      ),
    );
    await acq.run();
    assert.deepEqual(seen, [...Array(30).keys()]);
    assert.ok(maxAhead <= 4, `producer ran at most queueSize+1 frames ahead (was ${maxAhead})`);
  });

  it('latest: a slow consumer never slows the producer, sees the newest frame and counts drops', async () => {
    const { producer } = counting(40, 1);
    const acq = await Acquisition.create('live', producer);
    const slow = collector('viewer', { policy: 'latest', delayMs: 15 });
    const fast = collector('writer');
    acq.attach(slow.consumer);
    acq.attach(fast.consumer);
    const started = performance.now();
    const result = await acq.run();
    const elapsed = performance.now() - started;
    assert.equal(fast.seen.length, 40);
    assert.ok(slow.seen.length < 40, 'the slow viewer skipped frames');
    assert.equal(
      slow.seen.length + result.consumers.viewer!.dropped,
      40,
      'every frame is either shown or counted as dropped',
    );
    assert.equal(slow.seen.at(-1), 39, 'the viewer ends on the newest frame');
    assert.ok(elapsed < 40 * 15, `the producer was not paced by the viewer (${elapsed.toFixed(0)} ms)`);
  });

  it('a failing consumer fails the acquisition with its name and stops the producer', async () => {
    const { producer, log } = counting(1000, 1);
    const acq = await Acquisition.create('radios', producer);
    const other = collector('other');
    acq.attach(other.consumer);
    acq.attach(
      frameConsumer('writer', async (frames) => {
        let i = 0;
        for await (const _ of frames) if (++i === 5) throw new Error('disk full');
      }),
    );
    await assert.rejects(acq.run(), (e: unknown) => {
      assert.ok(e instanceof AcquisitionError);
      assert.match(e.message, /consumer 'writer' of acquisition 'radios' failed: disk full/);
      return true;
    });
    assert.ok(log.closed, 'producer closed');
    assert.ok(log.produced < 100, `producer stopped early (produced ${log.produced})`);
    assert.equal(acq.running, false);
  });

  it('a consumer that finishes early is dropped while the others go on', async () => {
    const { producer } = counting(20);
    const acq = await Acquisition.create('radios', producer);
    const rest = collector('rest', { queueSize: 1 });
    const firstThree: number[] = [];
    acq.attach(
      frameConsumer(
        'three',
        async (frames) => {
          for await (const f of frames) {
            firstThree.push(f.metadata.frameNumber);
            if (firstThree.length === 3) return;
          }
        },
        { queueSize: 1 },
      ),
    );
    acq.attach(rest.consumer);
    await acq.run();
    assert.deepEqual(firstThree, [0, 1, 2]);
    assert.equal(rest.seen.length, 20);
  });

  it('a producer error ends all consumers and is re-raised', async () => {
    const acq = await Acquisition.create('radios', async function* () {
      yield makeFrame(new Uint8Array(1), [1, 1]);
      throw new Error('camera on fire');
    });
    let consumerSaw: unknown;
    acq.attach(
      frameConsumer('c', async (frames) => {
        try {
          for await (const _ of frames);
        } catch (e) {
          consumerSaw = e;
          throw e;
        }
      }),
    );
    await assert.rejects(acq.run(), /acquisition 'radios' failed: camera on fire/);
    assert.match(String(consumerSaw), /camera on fire/);
  });

  it('aborting stops the producer promptly, even one that ignores its signal', async () => {
    const acq = await Acquisition.create('stuck', async function* () {
      yield makeFrame(new Uint8Array(1), [1, 1]);
      await new Promise(() => {}); // never yields again
    });
    const c = new AbortController();
    setTimeout(() => c.abort(), 50);
    const t = performance.now();
    await assert.rejects(acq.run({ signal: c.signal }), { name: 'AbortError' });
    assert.ok(performance.now() - t < 1500);
  });

  it('abortAll() and the ambient abort scope cancel a run', async () => {
    const { producer, log } = counting(10_000, 1);
    const acq = await Acquisition.create('long', producer);
    const scope = new AbortController();
    const running = withAbortScope(scope.signal, () => acq.run());
    await sleep(20);
    scope.abort();
    await assert.rejects(running, { name: 'AbortError' });
    assert.ok(log.aborted);
    const again = acq.run();
    await sleep(20);
    abortAll();
    await assert.rejects(again, { name: 'AbortError' });
  });

  it('attach during a run: the consumer starts at the next frame', async () => {
    const { producer } = counting(30, 3);
    const acq = await Acquisition.create('radios', producer);
    const early = collector('early');
    acq.attach(early.consumer);
    const run = acq.run();
    await sleep(40);
    const late = collector('late');
    acq.attach(late.consumer);
    await run;
    assert.equal(early.seen.length, 30);
    assert.ok(late.seen.length > 0 && late.seen.length < 30);
    assert.deepEqual(late.seen, early.seen.slice(30 - late.seen.length), 'from its first frame on, it saw every frame');
  });

  it('detach during a run: the consumer finishes cleanly, the others go on', async () => {
    const { producer } = counting(30, 3);
    const acq = await Acquisition.create('radios', producer);
    let closed = false;
    const seen: number[] = [];
    const writer: FrameConsumer = frameConsumer('writer', async (frames) => {
      try {
        for await (const f of frames) seen.push(f.metadata.frameNumber);
      } finally {
        closed = true;
      }
    });
    const other = collector('other');
    acq.attach(writer);
    acq.attach(other.consumer);
    const run = acq.run();
    await sleep(40);
    await acq.detach(writer);
    assert.ok(closed, 'detach resolves after the consumer finished');
    const count = seen.length;
    await run;
    assert.equal(seen.length, count, 'no frames after detach');
    assert.ok(count > 0 && count < 30);
    assert.deepEqual(seen, [...Array(count).keys()], 'no frame lost before the detach');
    assert.equal(other.seen.length, 30);
  });

  it('attaching twice is a no-op; a local consumer on a remote-only acquisition is refused', async () => {
    const { producer } = counting(5);
    const acq = await Acquisition.create('radios', producer);
    const c = collector('c');
    acq.attach(c.consumer);
    acq.attach(c.consumer);
    await acq.run();
    assert.equal(c.seen.length, 5);
    const remote = await Acquisition.create('remote', null, { acquire: async () => {} });
    assert.throws(() => remote.attach(c.consumer), ConsumerError);
  });

  it('validates its arguments', async () => {
    await assert.rejects(Acquisition.create('', counting(1).producer), /non-empty name/);
    await assert.rejects(Acquisition.create('x', 42 as never), /producer must be a function/);
    await assert.rejects(
      Acquisition.create('x', counting(1).producer, { frmes: 3 } as never),
      /unknown option 'frmes'/,
    );
    await assert.rejects(Acquisition.create('x', null), /needs an 'acquire' function/);
  });

  it('a run while running is refused', async () => {
    const acq = await Acquisition.create('radios', counting(10, 5).producer);
    const run = acq.run();
    await assert.rejects(acq.run(), /already running/);
    await run;
  });
});
