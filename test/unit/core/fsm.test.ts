import assert from 'node:assert/strict';
import { check, Device, FSMError, sleep, transition, TransitionNotAllowed } from '../../../core/index.js';
import { rejectsWith } from '../../support/async.js';

type S = 'standby' | 'moving' | 'open' | 'closed';

class Machine extends Device {
  readonly state = this.stateParameter<S>({ initial: 'standby' });
  calls = 0;

  @check(['standby'], ['standby'])
  async poke(): Promise<number> {
    return ++this.calls;
  }

  @check(['standby'], ['open'])
  async breaksTarget(): Promise<void> {}

  @transition({ source: ['standby'], immediate: 'moving', target: 'standby' })
  async move(ms: number, seen?: (state: string) => void, signal?: AbortSignal): Promise<string> {
    seen?.(this.state.current);
    await this.operation(signal, (s) => sleep(ms, s));
    return 'moved';
  }

  @transition({ source: ['standby'], target: 'open' })
  async open(): Promise<void> {}

  @transition({ source: ['open'], target: 'standby' })
  async shut(): Promise<void> {}

  @transition({ source: '*', immediate: 'moving', target: 'standby' })
  async fail(): Promise<void> {
    throw new Error('motor driver fault');
  }

  @transition({ source: ['standby'], immediate: 'moving', target: 'standby', aborted: 'closed' })
  async abortable(signal: AbortSignal): Promise<void> {
    await this.operation(signal, (s) => sleep(1000, s));
  }

  @transition({ source: ['standby'], immediate: 'moving', target: 'standby', failed: () => 'closed' })
  async failsSoftly(): Promise<void> {
    throw new Error('soft');
  }

  @transition({ source: ['standby'], immediate: 'moving', target: 'standby' })
  async *frames(n: number, states: string[]): AsyncGenerator<number> {
    for (let i = 0; i < n; i++) {
      states.push(this.state.current);
      yield i;
    }
  }

  @transition({ source: ['standby'], immediate: 'moving', target: 'standby' })
  async *badFrames(): AsyncGenerator<number> {
    yield 1;
    throw new Error('sensor fault');
  }

  @check(['standby'])
  async *checked(): AsyncGenerator<number> {
    yield 1;
  }
}

/** State names are checked at compile time (tsc runs over the tests): each line below must not compile. */
class Misspelt extends Machine {
  // @ts-expect-error -- 'standbye' is not a state of Machine
  @check(['standbye'])
  async a(): Promise<void> {}

  // @ts-expect-error -- 'opened' is not a state of Machine
  @check(['standby'], ['opened'])
  async b(): Promise<void> {}

  // @ts-expect-error -- 'movin' is not a state of Machine
  @transition({ source: ['standby'], immediate: 'movin', target: 'standby' })
  async c(): Promise<void> {}

  // @ts-expect-error -- 'close' is not a state of Machine
  @transition({ source: ['standby'], target: 'standby', aborted: 'close' })
  async d(): Promise<void> {}

  // @ts-expect-error -- 'broken' is not a state of Machine
  @transition({ source: '*', target: 'standby', failed: (): 'broken' => 'broken' })
  async e(): Promise<void> {}

  // Another family's state (a motor's).
  // @ts-expect-error -- 'hard-limit' is not a state of Machine
  @transition({ source: ['hard-limit'], target: 'standby' })
  async f(): Promise<void> {}
}

class Stateless extends Device {
  @check(['standby'])
  async go(): Promise<void> {}
}

describe('core/fsm', () => {
  it('@check allows calls from a source state and refuses others with TransitionNotAllowed carrying the state', async () => {
    const m = await Machine.create({ name: 'm' });
    assert.equal(await m.poke(), 1);
    await m.open();
    const e = await rejectsWith(
      m.poke(),
      TransitionNotAllowed,
      "m.poke() is not allowed in state 'open' (allowed in: standby)",
    );
    assert.equal(e.state, 'open');
    assert.ok(e instanceof FSMError);
    assert.equal(m.calls, 1, 'the method did not run');
  });

  it('@check verifies the state after the call', async () => {
    const m = await Machine.create({ name: 'm' });
    await rejectsWith(
      m.breaksTarget(),
      FSMError,
      "m.breaksTarget() left the device in state 'standby' (expected: open)",
    );
  });

  it('@transition sets immediate during the call and target afterwards', async () => {
    const m = await Machine.create({ name: 'm' });
    let during = '';
    assert.equal(await m.move(5, (s) => (during = s)), 'moved');
    assert.equal(during, 'moving');
    assert.equal(await m.getState(), 'standby');
    await m.open();
    assert.equal(await m.getState(), 'open');
    await rejectsWith(m.open(), TransitionNotAllowed, /in state 'open'/);
    await m.shut();
    assert.equal(await m.getState(), 'standby');
  });

  it('a second call that starts while the first runs is refused (no check-then-act race)', async () => {
    const m = await Machine.create({ name: 'm' });
    const first = m.move(20);
    const e = await rejectsWith(m.move(1), TransitionNotAllowed);
    assert.equal(e.state, 'moving');
    assert.equal(await first, 'moved');
  });

  it('an error puts the device into error (with the cause); reset() returns to the initial state', async () => {
    const m = await Machine.create({ name: 'm' });
    await assert.rejects(m.fail(), /motor driver fault/);
    assert.equal(await m.getState(), 'error');
    assert.match(String(m.state.error), /motor driver fault/);
    await rejectsWith(m.poke(), TransitionNotAllowed, /in state 'error'/);
    await m.reset();
    assert.equal(await m.getState(), 'standby');
    assert.equal(await m.poke(), 1);
  });

  it('an abort goes to the aborted state (default target), not error', async () => {
    const m = await Machine.create({ name: 'm' });
    const c = new AbortController();
    const running = m.move(1000, undefined, c.signal);
    setTimeout(() => c.abort(), 5);
    await assert.rejects(running, { name: 'AbortError' });
    assert.equal(await m.getState(), 'standby');
    const c2 = new AbortController();
    const running2 = m.abortable(c2.signal);
    setTimeout(() => c2.abort(), 5);
    await assert.rejects(running2, { name: 'AbortError' });
    assert.equal(await m.getState(), 'closed');
  });

  it('failed: chooses the state after an error', async () => {
    const m = await Machine.create({ name: 'm' });
    await assert.rejects(m.failsSoftly(), /soft/);
    assert.equal(await m.getState(), 'closed');
  });

  it('works on async generator methods: checks on first next(), immediate while iterating, target at the end', async () => {
    const m = await Machine.create({ name: 'm' });
    const states: string[] = [];
    const gen = m.frames(3, states);
    assert.equal(await m.getState(), 'standby', 'nothing happens before the first next()');
    const got: number[] = [];
    for await (const i of gen) got.push(i);
    assert.deepEqual(got, [0, 1, 2]);
    assert.deepEqual(states, ['moving', 'moving', 'moving']);
    assert.equal(await m.getState(), 'standby');
  });

  it('an async generator left early (break) still reaches the target state', async () => {
    const m = await Machine.create({ name: 'm' });
    for await (const i of m.frames(10, [])) if (i === 1) break;
    assert.equal(await m.getState(), 'standby');
    await m.open();
    await rejectsWith(m.frames(1, []).next(), TransitionNotAllowed, /m\.frames\(\) is not allowed in state 'open'/);
    await m.shut();
    for await (const _ of m.checked()) break;
    assert.equal(await m.getState(), 'standby');
  });

  it('an async generator that throws puts the device into error', async () => {
    const m = await Machine.create({ name: 'm' });
    const got: number[] = [];
    await assert.rejects(
      (async () => {
        for await (const i of m.badFrames()) got.push(i);
      })(),
      /sensor fault/,
    );
    assert.deepEqual(got, [1]);
    assert.equal(await m.getState(), 'error');
  });

  it('misspelt state names do not compile (see Misspelt; tsc checks this file)', () => {
    assert.equal(typeof Misspelt, 'function');
  });

  it('a device without a state parameter is an FSMError', async () => {
    const d = await Stateless.create({ name: 'plain' });
    await rejectsWith(d.go(), FSMError, 'plain.go(): Stateless has no state parameter');
  });
});
