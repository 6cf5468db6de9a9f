import assert from 'node:assert/strict';
import type { Quantity } from '../../../core/index.js';
import {
  Device,
  format,
  LimitError,
  LockError,
  math,
  OptionError,
  q,
  SoftLimitError,
  UnitError,
  WaitError,
  type Unit,
} from '../../../core/index.js';
import { captureLog } from '../../support/log.js';
import { rejectsWith, throwsWith } from '../../support/async.js';

/** A motor-like device whose position is a plain number in mm, with a write counter. */
class FlatMotor extends Device {
  value = 0;
  writes = 0;
  readonly position = this.quantity('position', {
    unit: 'mm',
    read: () => this.value,
    write: (v) => {
      this.writes++;
      this.value = v;
    },
  });
  readonly temperature = this.quantity('temperature', { unit: 'degC', read: () => 21 });
  override get kind(): string {
    return 'LinearMotor';
  }
}

async function make(): Promise<FlatMotor> {
  return FlatMotor.create({ name: 'flatMotor' });
}

async function mm(p: Quantity): Promise<number> {
  return (await p.get()).toNumber('mm');
}

describe('core/quantity-parameter', () => {
  it('converts a set value to the parameter unit and returns gets in that unit', async () => {
    const m = await make();
    await m.position.set(q('2 cm'));
    assert.equal(m.value, 20);
    const got = await m.position.get();
    assert.equal(format(got), '20 mm');
    assert.equal(got.formatUnits(), 'mm');
    await m.position.set(q('1 um'));
    assert.equal(format(await m.position.get()), '0.001 mm');
  });

  it('refuses a value in an incompatible unit (UnitError) and leaves the device unchanged', async () => {
    const m = await make();
    await m.position.set(q('3 mm'));
    const writes = m.writes;
    await rejectsWith(
      m.position.set(q('1 s')),
      UnitError,
      'flatMotor.position: 1 s has the wrong unit; expected a quantity in mm',
    );
    await rejectsWith(m.position.set(q('1 px')), UnitError);
    assert.equal(m.writes, writes);
    assert.equal(await mm(m.position), 3);
  });

  it('refuses plain numbers, strings, NaN, Infinity and missing values with a hint', async () => {
    const m = await make();
    await rejectsWith(
      m.position.set(5 as never),
      UnitError,
      "flatMotor.position: expected a quantity in mm, got plain number 5; write e.g. q('5 mm')",
    );
    await rejectsWith(m.position.set('5 mm' as never), UnitError, /got string '5 mm'/);
    await rejectsWith(m.position.set(null as never), UnitError, /got null/);
    await rejectsWith(m.position.set(undefined as never), UnitError);
    // q() refuses NaN itself; a mathjs NaN quantity made by hand is refused by the parameter.
    await rejectsWith(m.position.set(math.unit(NaN, 'mm')), UnitError, /not a finite number/);
    await rejectsWith(m.position.set(math.unit(Infinity, 'mm')), UnitError, /not a finite number/);
    assert.equal(m.writes, 0);
  });

  it('refuses values outside the soft limits before writing, with the exact message', async () => {
    const m = await make();
    m.position.setLower(q('0 mm'));
    m.position.setUpper(q('10 mm'));
    await m.position.set(q('4 mm'));
    const writes = m.writes;
    const e = await rejectsWith(
      m.position.set(q('12 mm')),
      SoftLimitError,
      'flatMotor.position: 12 mm is out of range [0 mm, 10 mm]',
    );
    assert.ok(e instanceof LimitError);
    await rejectsWith(
      m.position.set(q('-1 mm')),
      SoftLimitError,
      'flatMotor.position: -1 mm is out of range [0 mm, 10 mm]',
    );
    await rejectsWith(m.position.set(q('1.1 cm')), SoftLimitError, /1\.1 cm is out of range \[0 mm, 10 mm\]/);
    assert.equal(m.writes, writes, 'the setter never ran');
    assert.equal(await mm(m.position), 4, 'value unchanged');
    await m.position.set(q('10 mm'));
    await m.position.set(q('0 mm'));
  });

  it('shows an open side of the range as ∞', async () => {
    const m = await make();
    m.position.setUpper(q('1 mm'));
    await rejectsWith(m.position.set(q('2 mm')), SoftLimitError, 'flatMotor.position: 2 mm is out of range [-∞, 1 mm]');
  });

  it('uses max/min of the user and external limits as effective limits', async () => {
    const m = await make();
    assert.equal(m.position.lower, undefined);
    assert.equal(m.position.upper, undefined);
    m.position.setExternalLimits(-5, 20);
    assert.equal(format(m.position.lower!), '-5 mm');
    assert.equal(format(m.position.upper!), '20 mm');
    m.position.setLower(q('-10 mm'));
    m.position.setUpper(q('15 mm'));
    assert.equal(format(m.position.lower!), '-5 mm', 'external lower is larger');
    assert.equal(format(m.position.upper!), '15 mm', 'user upper is smaller');
    m.position.setLower(q('1 mm'));
    m.position.setExternalLimits(undefined, 12);
    assert.equal(format(m.position.lower!), '1 mm');
    assert.equal(format(m.position.upper!), '12 mm');
    await rejectsWith(
      m.position.set(q('13 mm')),
      SoftLimitError,
      'flatMotor.position: 13 mm is out of range [1 mm, 12 mm]',
    );
    await rejectsWith(m.position.set(q('0 mm')), SoftLimitError);
    m.position.setLower(undefined);
    m.position.setUpper(undefined);
    m.position.setExternalLimits(undefined, undefined);
    await m.position.set(q('1 m'));
    assert.equal(await mm(m.position), 1000);
  });

  it('refuses a lower limit ≥ the upper one (and vice versa) and limits in a wrong unit', async () => {
    const m = await make();
    m.position.setUpper(q('10 mm'));
    throwsWith(
      () => m.position.setLower(q('10 mm')),
      LimitError,
      'flatMotor.position: lower limit 10 mm must be below the upper limit 10 mm',
    );
    throwsWith(() => m.position.setLower(q('2 cm')), LimitError);
    m.position.setLower(q('1 mm'));
    throwsWith(
      () => m.position.setUpper(q('0.5 mm')),
      LimitError,
      /upper limit 0\.5 mm must be above the lower limit 1 mm/,
    );
    throwsWith(() => m.position.setUpper(q('1 mm')), LimitError);
    throwsWith(() => m.position.setLower(q('1 s')), UnitError, /lower limit: 1 s has the wrong unit/);
    throwsWith(() => m.position.setUpper(3 as never), UnitError);
    assert.equal(format(m.position.lower!), '1 mm');
    assert.equal(format(m.position.upper!), '10 mm');
  });

  it('locks limits; unlocking a permanent lock is a LockError', async () => {
    const m = await make();
    m.position.setUpper(q('10 mm'));
    m.position.lockLimits();
    assert.ok(m.position.limitsLocked);
    throwsWith(() => m.position.setUpper(q('20 mm')), LockError, /limits are locked; unlockLimits\(\) first/);
    throwsWith(() => m.position.setLower(q('0 mm')), LockError);
    m.position.unlockLimits();
    assert.ok(!m.position.limitsLocked);
    m.position.setUpper(q('20 mm'));
    m.position.lockLimits(true);
    throwsWith(() => m.position.setUpper(q('30 mm')), LockError, /locked permanently/);
    throwsWith(() => m.position.unlockLimits(), LockError, 'flatMotor.position: limits are locked permanently');
    m.position.lockLimits(false); // no downgrade
    throwsWith(() => m.position.unlockLimits(), LockError);
    assert.equal(format(m.position.upper!), '20 mm');
    // Locked limits still apply to set(), and the value itself can still be set within them.
    await m.position.set(q('19 mm'));
    await rejectsWith(m.position.set(q('21 mm')), SoftLimitError);
  });

  it('logs every successful set as set Kind::device.param=value, and nothing on failure', async () => {
    const m = await make();
    m.position.setUpper(q('10 mm'));
    const lines = await captureLog(async () => {
      await m.position.set(q('10 mm'));
      await m.position.set(q('5000 um'));
      await m.position.set(q('11 mm')).catch(() => undefined);
      await m.position.set(q('1 s')).catch(() => undefined);
    });
    const sets = lines.filter((l) => l.message.startsWith('set '));
    assert.deepEqual(
      sets.map((l) => l.message),
      ["set LinearMotor::flatMotor.position='10 mm'", "set LinearMotor::flatMotor.position='5 mm'"],
    );
    assert.equal(sets[0]!.level, 'info');
    assert.equal(sets[0]!.source, 'flatMotor');
  });

  it('waits until the value is reached (within eps) or fails with WaitError', async () => {
    const m = await make();
    setTimeout(() => (m.value = 2), 30);
    await m.position.wait(q('2 mm'), { timeoutMs: 1000, intervalMs: 5 });
    setTimeout(() => (m.value = 3.05), 10);
    await m.position.wait(q('3 mm'), { eps: q('0.1 mm'), timeoutMs: 1000, intervalMs: 5 });
    const t0 = performance.now();
    await rejectsWith(
      m.position.wait(q('7 mm'), { timeoutMs: 60, intervalMs: 10 }),
      WaitError,
      /flatMotor\.position: did not reach 7 mm within 60 ms \(last value 3\.05 mm\)/,
    );
    assert.ok(performance.now() - t0 < 500);
    await rejectsWith(m.position.wait(7 as never), UnitError);
    await rejectsWith(
      m.position.wait(q('1 mm'), { timeoutMs: NaN }),
      OptionError,
      "flatMotor.position.wait: option 'timeoutMs' must be a number of milliseconds ≥ 0 (Infinity: no timeout), got NaN",
    );
    await rejectsWith(m.position.wait(q('1 mm'), { intervalMs: 0 }), OptionError, /option 'intervalMs'/);
  });

  it('refuses an unknown unit when declared', () => {
    class Bad extends Device {
      readonly x = this.quantity('x', { unit: 'parsecs-per-banana', read: () => 1 });
    }
    throwsWith(() => new Bad({ name: 'bad' }), UnitError, "bad.x: unknown unit 'parsecs-per-banana'");
  });

  it('does not let a read-only quantity be set or have limits bypass it', async () => {
    const m = await make();
    const t: Unit = await m.temperature.get();
    assert.equal(format(t), '21 degC');
    await assert.rejects(m.temperature.set(q('22 degC')), { name: 'WriteAccessError' });
  });
});
