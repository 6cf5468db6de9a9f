/**
 * Conformance suites for motors. Every backend's test calls these with a factory, so dummy and
 * real motors stay interchangeable:
 *
 * ```ts
 * describeLinearMotor(({ speed }) => dummy.LinearMotor.create({ motionVelocity: q(speed === 'slow' ? '2 mm/s' : '10000 mm/s') }));
 * ```
 *
 * The suites are backend-neutral: they only use the public API and the hints below, and each test
 * gets a fresh motor from the factory (disconnected afterwards).
 * @module
 */
import assert from 'node:assert/strict';
import {
  abortAll,
  format,
  HardLimitError,
  math,
  q,
  SoftLimitError,
  TransitionNotAllowed,
  UnitError,
  withAbortScope,
  type Unit,
} from '../../core/index.js';
import type { ContinuousLinearMotor, ContinuousRotationMotor, Motor } from '../../devices/motors/index.js';
import { delay, rejectsWith, since } from '../support/async.js';
import { captureLog } from '../support/log.js';

/** What the suite asks of the factory: `fast` moves finish quickly, `slow` ones take long enough to abort. */
export interface MotorHints {
  speed: 'fast' | 'slow';
}

/** A factory for fresh motors in state standby (enabled), at `positions[0]` or anywhere in between. */
export type MotorFactory<M extends Motor> = (hints: MotorHints) => Promise<M>;

export interface MotorCaseOptions {
  /** Two positions the suite may move between (default 0 and 1 in the position unit). */
  positions?: [Unit, Unit];
  /** How close a finished move must be to its target (default 1e-6 in the position unit). */
  tolerance?: Unit;
  /** Where `home()` goes (default 0). Omit homing tests with `home: null`. */
  home?: Unit | null;
  /** The upper hard limit (end switch) of motors the factory makes, if any: enables the hard-limit tests. */
  hardUpper?: Unit;
  /** A `slow` move between the two positions takes at least this long (ms, default 300). */
  slowMoveMs?: number;
}

interface Resolved {
  unit: string;
  a: number;
  b: number;
  tol: number;
  home: number | null;
  hardUpper: number | undefined;
  slowMoveMs: number;
}

function resolve(unit: string, o: MotorCaseOptions): Resolved {
  const n = (v: Unit) => v.toNumber(unit);
  return {
    unit,
    a: o.positions ? n(o.positions[0]) : 0,
    b: o.positions ? n(o.positions[1]) : 1,
    tol: o.tolerance ? n(o.tolerance) : 1e-6,
    home: o.home === null ? null : o.home ? n(o.home) : 0,
    hardUpper: o.hardUpper ? n(o.hardUpper) : undefined,
    slowMoveMs: o.slowMoveMs ?? 300,
  };
}

/** Tests any motor (linear or rotation) must pass. */
function describeMotorBehaviour<M extends Motor>(make: MotorFactory<M>, r: Resolved): void {
  const { unit, a, b, tol } = r;
  const made: Motor[] = [];
  const fresh = async (speed: MotorHints['speed'] = 'fast'): Promise<M> => {
    const m = await make({ speed });
    made.push(m);
    return m;
  };
  const at = async (m: Motor) => (await m.getPosition()).toNumber(unit);
  const qq = (n: number) => q(n, unit);

  afterEach(async () => {
    for (const m of made.splice(0)) {
      await m.stop().catch(() => undefined);
      await m.disconnect();
    }
  });

  it(`reports its position in ${unit}, with a target`, async () => {
    const m = await fresh();
    const p = await m.getPosition();
    assert.equal(p.formatUnits(), unit);
    assert.equal(m.position.unit, unit);
    await m.setPosition(qq(b));
    assert.ok(Math.abs((await m.getTargetPosition()).toNumber(unit) - b) <= tol);
  });

  it('moves to a position (setPosition) and by a delta (move), ending in standby', async () => {
    const m = await fresh();
    await m.setPosition(qq(a));
    assert.ok(Math.abs((await at(m)) - a) <= tol);
    await m.setPosition(qq(b));
    assert.ok(Math.abs((await at(m)) - b) <= tol);
    assert.equal(await m.getState(), 'standby');
    await m.move(qq((a - b) / 2));
    assert.ok(Math.abs((await at(m)) - (a + b) / 2) <= tol);
    await m.position.wait(qq((a + b) / 2), { eps: qq(tol), timeoutMs: 2000 });
  });

  it('is moving during a move', async () => {
    const m = await fresh('slow');
    await m.setPosition(qq(a));
    const moving = m.setPosition(qq(b));
    await delay(30);
    assert.equal(await m.getState(), 'moving');
    await m.stop();
    await moving.catch(() => undefined);
  });

  it('refuses a wrong unit, plain numbers, NaN and Infinity (UnitError) without moving', async () => {
    const m = await fresh();
    await m.setPosition(qq(a));
    await rejectsWith(
      m.setPosition(q('1 s')),
      UnitError,
      new RegExp(`^${m.name}\\.position: 1 s has the wrong unit; expected a quantity in ${unit}$`),
    );
    await rejectsWith(m.setPosition(q(1, unit === 'mm' ? 'deg' : 'mm')), UnitError);
    await rejectsWith(m.setPosition(1 as never), UnitError, /expected a quantity/);
    await rejectsWith(m.setPosition(math.unit(NaN, unit)), UnitError, /not a finite number/);
    await rejectsWith(m.setPosition(math.unit(Infinity, unit)), UnitError);
    await rejectsWith(m.move(q('1 s')), UnitError, /\(delta\)/);
    await rejectsWith(m.move(2 as never), UnitError);
    assert.ok(Math.abs((await at(m)) - a) <= tol);
    assert.equal(await m.getState(), 'standby');
  });

  it('refuses a target outside the soft limits (SoftLimitError) and stays where it is', async () => {
    const m = await fresh();
    await m.setPosition(qq(a));
    const lo = Math.min(a, b);
    const hi = Math.max(a, b);
    m.position.setLower(qq(lo));
    m.position.setUpper(qq(hi));
    const beyond = hi + (hi - lo);
    await rejectsWith(
      m.setPosition(qq(beyond)),
      SoftLimitError,
      `${m.name}.position: ${format(qq(beyond))} is out of range [${format(qq(lo))}, ${format(qq(hi))}]`,
    );
    await rejectsWith(m.move(qq(-(hi - lo) * 2)), SoftLimitError);
    assert.ok(Math.abs((await at(m)) - a) <= tol);
    assert.equal(await m.getState(), 'standby');
    m.position.setLower(undefined);
    m.position.setUpper(undefined);
  });

  it(`logs each move as set ${'<Kind>'}::<name>.position='<value>'`, async () => {
    const m = await fresh();
    const lines = await captureLog(() => m.setPosition(qq(b)));
    assert.ok(
      lines.some((l) => l.message === `set ${m.kind}::${m.name}.position='${format(qq(b))}'`),
      `log lines: ${JSON.stringify(lines.map((l) => l.message))}`,
    );
  });

  it('aborting a move with an AbortSignal stops the motor where it is, in standby, within 50 ms', async () => {
    const m = await fresh('slow');
    await m.setPosition(qq(a));
    const c = new AbortController();
    const moving = m.setPosition(qq(b), { signal: c.signal });
    await delay(Math.min(100, r.slowMoveMs / 3));
    const t0 = performance.now();
    c.abort();
    await assert.rejects(moving, { name: 'AbortError' });
    assert.ok(since(t0) < 50, `the move took ${since(t0).toFixed(1)} ms to stop`);
    assert.equal(await m.getState(), 'standby');
    const here = await at(m);
    assert.ok(
      (here - a) * (b - a) > 0 && (b - here) * (b - a) > 0,
      `stopped at ${here}, strictly between ${a} and ${b}`,
    );
    await delay(30);
    assert.equal(await at(m), here, 'it does not keep moving');
  });

  it('stop() during a move stops it where it is', async () => {
    const m = await fresh('slow');
    await m.setPosition(qq(a));
    const moving = m.setPosition(qq(b));
    await delay(50);
    await m.stop();
    await assert.rejects(moving, { name: 'AbortError' });
    assert.equal(await m.getState(), 'standby');
    const here = await at(m);
    assert.ok((here - a) * (b - a) > 0 && (b - here) * (b - a) > 0, `stopped at ${here}`);
    // It can move again afterwards.
    await m.stop();
  });

  it('emergencyStop() stops a moving motor', async () => {
    const m = await fresh('slow');
    await m.setPosition(qq(a));
    const moving = m.setPosition(qq(b));
    await delay(50);
    await m.emergencyStop();
    await assert.rejects(moving, { name: 'AbortError' });
    assert.notEqual(await m.getState(), 'moving');
    const here = await at(m);
    await delay(30);
    assert.equal(await at(m), here);
  });

  it('abortAll() and an aborted withAbortScope() abort running moves', async () => {
    const m = await fresh('slow');
    await m.setPosition(qq(a));
    const moving = m.setPosition(qq(b));
    await delay(30);
    assert.ok(abortAll() >= 1);
    await assert.rejects(moving, { name: 'AbortError' });
    assert.equal(await m.getState(), 'standby');
    // Toward b again: the motor stopped near a, so this move has almost the whole slow distance to go.
    const c = new AbortController();
    const scoped = withAbortScope(c.signal, () => m.setPosition(qq(b)));
    await delay(30);
    c.abort();
    await assert.rejects(scoped, { name: 'AbortError' });
    assert.equal(await m.getState(), 'standby');
    const here = await at(m);
    assert.ok((b - here) * (b - a) > 0, 'stopped before the target');
  });

  it('refuses a second move while one runs (TransitionNotAllowed in moving)', async () => {
    const m = await fresh('slow');
    await m.setPosition(qq(a));
    const first = m.setPosition(qq(b));
    const e = await rejectsWith(m.setPosition(qq(a)), TransitionNotAllowed);
    assert.equal(e.state, 'moving');
    await m.stop();
    await first.catch(() => undefined);
  });

  it('disable() makes it refuse to move; enable() allows it again', async () => {
    const m = await fresh();
    await m.setPosition(qq(a));
    await m.disable();
    assert.equal(await m.getState(), 'disabled');
    const e = await rejectsWith(m.setPosition(qq(b)), TransitionNotAllowed, /is not allowed in state 'disabled'/);
    assert.equal(e.state, 'disabled');
    await rejectsWith(m.home(), TransitionNotAllowed);
    await rejectsWith(m.disable(), TransitionNotAllowed);
    assert.ok(Math.abs((await at(m)) - a) <= tol);
    await m.enable();
    assert.equal(await m.getState(), 'standby');
    await rejectsWith(m.enable(), TransitionNotAllowed);
    await m.setPosition(qq(b));
    assert.ok(Math.abs((await at(m)) - b) <= tol);
  });

  if (r.home !== null) {
    it('home() drives to the home position', async () => {
      const m = await fresh();
      await m.setPosition(qq(b));
      await m.home();
      assert.ok(Math.abs((await at(m)) - r.home!) <= tol);
      assert.equal(await m.getState(), 'standby');
    });
  }

  if (r.hardUpper !== undefined) {
    const hard = r.hardUpper;
    it('clamps at the hard limit, raises HardLimitError, enters hard-limit, and can move away', async () => {
      const m = await fresh();
      await m.setPosition(qq(a));
      const beyond = hard + Math.abs(b - a);
      const e = await rejectsWith(m.setPosition(qq(beyond)), HardLimitError, new RegExp(`${m.name}\\.position`));
      assert.ok(e instanceof HardLimitError);
      assert.equal(await m.getState(), 'hard-limit');
      assert.ok(Math.abs((await at(m)) - hard) <= tol, 'clamped at the limit');
      await rejectsWith(m.move(qq(Math.abs(b - a))), HardLimitError, undefined);
      assert.equal(await m.getState(), 'hard-limit');
      await m.setPosition(qq(a));
      assert.equal(await m.getState(), 'standby');
      assert.ok(Math.abs((await at(m)) - a) <= tol);
    });
  }
}

/** Conformance suite for linear motors (position in mm). */
export function describeLinearMotor<M extends Motor>(make: MotorFactory<M>, options: MotorCaseOptions = {}): void {
  describe('LinearMotor conformance', () => describeMotorBehaviour(make, resolve('mm', options)));
}

/** Conformance suite for rotation motors (position in deg; also accepts rad). */
export function describeRotationMotor<M extends Motor>(make: MotorFactory<M>, options: MotorCaseOptions = {}): void {
  describe('RotationMotor conformance', () => {
    describeMotorBehaviour(make, resolve('deg', { positions: [q('0 deg'), q('10 deg')], ...options }));

    it('accepts radians and reports degrees', async () => {
      const m = await make({ speed: 'fast' });
      try {
        await m.setPosition(q(Math.PI / 18, 'rad'));
        const p = await m.getPosition();
        assert.equal(p.formatUnits(), 'deg');
        assert.ok(Math.abs(p.toNumber('deg') - 10) < 1e-6);
        assert.equal(format(p), '10 deg');
        await rejectsWith(m.setPosition(q('1 mm')), UnitError, /expected a quantity in deg/);
      } finally {
        await m.disconnect();
      }
    });
  });
}

export interface ContinuousMotorCaseOptions {
  /** A velocity to run at (default 1000 position units per second, positive). */
  velocity?: Unit;
  /**
   * The upper hard limit of motors the factory makes (required: continuous motion toward it must
   * end in 'hard-limit' within about a second at `velocity`).
   */
  hardUpper: Unit;
}

type ContinuousMotor = ContinuousLinearMotor | ContinuousRotationMotor;

/** Conformance suite for continuous motors (linear or rotation): velocity > 0 runs to the upper hard limit, 0 stops. */
export function describeContinuousMotor<M extends ContinuousMotor>(
  make: MotorFactory<M>,
  options: ContinuousMotorCaseOptions,
): void {
  describe('ContinuousMotor conformance', () => {
    const made: Motor[] = [];
    let unit = 'mm';
    const fresh = async (): Promise<M> => {
      const m = await make({ speed: 'fast' });
      made.push(m);
      unit = m.position.unit;
      return m;
    };
    const at = async (m: Motor) => (await m.getPosition()).toNumber(unit);
    const speed = (m: Motor) => (options.velocity ? options.velocity.toNumber(`${m.position.unit}/s`) : 1000);
    const hard = (m: Motor) => options.hardUpper.toNumber(m.position.unit);

    afterEach(async () => {
      for (const m of made.splice(0)) {
        await m.stop().catch(() => undefined);
        await m.disconnect();
      }
    });

    it('has a velocity in position unit per second', async () => {
      const m = await fresh();
      assert.equal(m.velocity.unit, `${m.position.unit}/s`);
      assert.equal((await m.getVelocity()).toNumber(m.velocity.unit), 0);
      await rejectsWith(m.setVelocity(q('1 s')), UnitError);
      await rejectsWith(m.setVelocity(3 as never), UnitError);
      await rejectsWith(m.setVelocity(math.unit(NaN, m.velocity.unit)), UnitError);
    });

    it('velocity > 0 moves toward the upper hard limit and ends in hard-limit', async () => {
      const m = await fresh();
      const start = await at(m);
      await m.setVelocity(q(speed(m), m.velocity.unit));
      assert.equal(await m.getState(), 'moving');
      await delay(10);
      assert.ok((await at(m)) > start, 'it moves up');
      assert.ok((await m.getVelocity()).toNumber(m.velocity.unit) > 0);
      const limitMs = ((hard(m) - start) / speed(m)) * 1000;
      await m.state.wait('hard-limit', { timeoutMs: limitMs + 1000, intervalMs: 5 });
      assert.ok(Math.abs((await at(m)) - hard(m)) < 1e-6, 'clamped at the hard limit');
      assert.equal((await m.getVelocity()).toNumber(m.velocity.unit), 0);
      // Moving away from the limit works.
      await m.setVelocity(q(-speed(m), m.velocity.unit));
      await delay(10);
      assert.ok((await at(m)) < hard(m));
      await m.setVelocity(q(0, m.velocity.unit));
      assert.equal(await m.getState(), 'standby');
    });

    it('velocity 0 stops where it is; stop() and emergencyStop() stop too', async () => {
      const m = await fresh();
      const v = q(-speed(m) / 10, m.velocity.unit);
      for (const halt of [() => m.setVelocity(q(0, m.velocity.unit)), () => m.stop(), () => m.emergencyStop()]) {
        await m.setVelocity(v);
        await delay(20);
        await halt();
        assert.equal(await m.getState(), 'standby');
        const here = await at(m);
        await delay(20);
        assert.equal(await at(m), here, 'it stays');
        assert.equal((await m.getVelocity()).toNumber(m.velocity.unit), 0);
      }
    });

    it('a disabled motor refuses a velocity', async () => {
      const m = await fresh();
      await m.disable();
      await rejectsWith(m.setVelocity(q(speed(m), m.velocity.unit)), TransitionNotAllowed, /disabled/);
      assert.equal(await m.getState(), 'disabled');
      await m.enable();
    });
  });
}
