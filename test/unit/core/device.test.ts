import assert from 'node:assert/strict';
import {
  Device,
  DEVICE_OPTIONS,
  LockError,
  OptionError,
  ParameterError,
  Parameterizable,
  q,
  registeredDevices,
  sleep,
  soft,
  z,
} from '../../../core/index.js';
import { rejectsWith, throwsWith } from '../../support/async.js';

class Stage extends Device {
  static override readonly options = DEVICE_OPTIONS.extend({
    speed: z.number().min(0).optional(),
    mode: z.enum(['fast', 'slow']).optional(),
  });
  readonly zeta = this.parameter<number>('zeta', soft(1));
  readonly alpha = this.quantity('alpha', { unit: 'deg', ...soft(0) });
  readonly model = this.parameter<string>('model', { read: () => 'X1' });
  readonly mu = this.parameter<number>('mu', soft(5));
  stopped = 0;
  connected = 0;
  constructor(readonly opts: { name?: string; speed?: number; mode?: 'fast' | 'slow' } = {}) {
    super(opts);
  }
  protected override async connect(): Promise<void> {
    this.connected++;
  }
  /** A long operation that emergencyStop() can cancel. */
  work(ms: number, signal?: AbortSignal): Promise<void> {
    return this.operation(signal, (s) => sleep(ms, s));
  }
  protected override async stopHook(): Promise<void> {
    this.stopped++;
  }
}

describe('core/device', () => {
  it('create() constructs, connects and registers the device', async () => {
    const s = await Stage.create({ name: 'stage', speed: 2, mode: 'fast' });
    assert.equal(s.name, 'stage');
    assert.equal(s.kind, 'Stage');
    assert.equal(s.connected, 1);
    assert.equal(s.opts.speed, 2);
    assert.ok(registeredDevices().includes(s));
    await s.disconnect();
    assert.ok(!registeredDevices().includes(s));
  });

  it('create() refuses unknown options and wrong types with OptionError, registering nothing', async () => {
    const before = registeredDevices().length;
    await rejectsWith(
      Stage.create({ name: 'x', sped: 2 } as never),
      OptionError,
      "Stage.create: unknown option 'sped', did you mean 'speed'? (allowed: mode, name, speed)",
    );
    await rejectsWith(
      Stage.create({ speed: 'fast' } as never),
      OptionError,
      'Stage.create: option \'speed\' must be a finite number in [0, Infinity], got "fast"',
    );
    await rejectsWith(Stage.create({ speed: NaN }), OptionError, /option 'speed' must be a finite number/);
    await rejectsWith(Stage.create({ speed: -1 }), OptionError);
    await rejectsWith(Stage.create({ speed: Infinity }), OptionError);
    await rejectsWith(
      Stage.create({ mode: 'medium' } as never),
      OptionError,
      /option 'mode' must be one of "fast", "slow", got "medium"/,
    );
    await rejectsWith(Stage.create({ name: 3 } as never), OptionError, /option 'name' must be a string, got 3/);
    await rejectsWith(
      Stage.create('stage' as never),
      OptionError,
      'Stage.create: options must be an object, got string',
    );
    await rejectsWith(Stage.create(null as never), OptionError, /got null/);
    await rejectsWith(Stage.create([] as never), OptionError, /got an array/);
    assert.equal(registeredDevices().length, before);
  });

  it('param() finds parameters by name; an unknown name is a ParameterError listing the existing ones', async () => {
    const s = await Stage.create({ name: 'stage' });
    assert.equal(s.param('zeta'), s.zeta);
    assert.ok(s.hasParam('mu'));
    assert.ok(!s.hasParam('nope'));
    throwsWith(() => s.param('beta'), ParameterError, "stage has no parameter 'beta' (it has: alpha, model, mu, zeta)");
  });

  it('iterating a device lists its parameters sorted by name', async () => {
    const s = await Stage.create({ name: 'stage' });
    assert.deepEqual(
      [...s].map((p) => p.name),
      ['alpha', 'model', 'mu', 'zeta'],
    );
    assert.deepEqual(
      s.parameters().map((p) => p.name),
      ['alpha', 'model', 'mu', 'zeta'],
    );
  });

  it('refuses a parameter declared twice', () => {
    class Twice extends Parameterizable {
      readonly a = this.parameter('a', soft(1));
      readonly b = this.parameter('a', soft(2));
    }
    throwsWith(() => new Twice({ name: 'twice' }), ParameterError, "twice: parameter 'a' is declared twice");
  });

  it('names unnamed devices after their kind and can be renamed', async () => {
    const a = await Stage.create();
    assert.match(a.name, /^stage\d+$/);
    assert.ok(!a.hasExplicitName);
    a.rename('sampleStage');
    assert.equal(a.name, 'sampleStage');
    assert.ok(a.hasExplicitName);
    assert.equal(a.zeta.fullName, 'sampleStage.zeta');
    throwsWith(() => a.rename(''), ParameterError);
  });

  it('device stash()/restore() act on every readable and writable parameter', async () => {
    const s = await Stage.create({ name: 'stage' });
    await s.stash();
    await s.zeta.set(10);
    await s.mu.set(11);
    await s.alpha.set(q('90 deg'));
    await s.restore();
    assert.equal(await s.zeta.get(), 1);
    assert.equal(await s.mu.get(), 5);
    assert.equal((await s.alpha.get()).toNumber('deg'), 0);
    assert.equal(s.model.stashed, 0, 'read-only parameters are skipped');
    // Nothing stashed: restore does nothing.
    await s.restore();
  });

  it('device lock() locks every writable parameter; unlock() skips permanently locked ones', async () => {
    const s = await Stage.create({ name: 'stage' });
    s.lock();
    await rejectsWith(s.zeta.set(2), LockError);
    await rejectsWith(s.alpha.set(q('1 deg')), LockError);
    s.unlock();
    await s.zeta.set(2);
    s.mu.lock(true);
    s.lock();
    s.unlock();
    await s.zeta.set(3);
    await rejectsWith(s.mu.set(1), LockError, /permanently/);
    s.lock(true);
    s.unlock();
    await rejectsWith(s.zeta.set(4), LockError, /permanently/);
  });

  it('exclusive() serializes users of a device', async () => {
    const s = await Stage.create({ name: 'stage' });
    const events: string[] = [];
    const user = (id: string, ms: number) =>
      s.exclusive(async () => {
        events.push(`${id}+`);
        await sleep(ms);
        events.push(`${id}-`);
        return id;
      });
    const results = await Promise.all([user('a', 30), user('b', 5), user('c', 1)]);
    assert.deepEqual(results, ['a', 'b', 'c']);
    assert.deepEqual(events, ['a+', 'a-', 'b+', 'b-', 'c+', 'c-']);
    // A failing user releases the lock.
    await assert.rejects(
      s.exclusive(() => Promise.reject(new Error('boom'))),
      /boom/,
    );
    assert.equal(await s.exclusive(() => 'next'), 'next');
    const release = await s.acquire();
    let got = false;
    const waiting = s.exclusive(() => (got = true));
    await sleep(5);
    assert.ok(!got);
    release();
    await waiting;
    assert.ok(got);
  });

  it('emergencyStop() aborts running operations and calls the stop hook', async () => {
    const s = await Stage.create({ name: 'stage' });
    const t0 = performance.now();
    const running = s.work(5000);
    setTimeout(() => void s.emergencyStop(), 10);
    await assert.rejects(running, (e: Error) => e.name === 'AbortError' && /stage: emergency stop/.test(e.message));
    assert.ok(performance.now() - t0 < 500);
    assert.equal(s.stopped, 1);
    // Later operations are not affected.
    await s.work(1);
  });

  it('an operation is aborted by the caller signal', async () => {
    const s = await Stage.create({ name: 'stage' });
    const c = new AbortController();
    const running = s.work(5000, c.signal);
    setTimeout(() => c.abort(), 5);
    await assert.rejects(running, { name: 'AbortError' });
    c.abort();
    await assert.rejects(s.work(1, c.signal), { name: 'AbortError' });
  });

  it('snapshot() records values, units, limits and locks; failed reads are recorded, not thrown', async () => {
    class Flaky extends Stage {
      readonly broken = this.parameter<number>('broken', {
        read: () => {
          throw new Error('sensor unplugged');
        },
      });
    }
    const s = await Flaky.create({ name: 'flaky' });
    s.alpha.setUpper(q('180 deg'));
    s.mu.lock();
    const snap = await s.snapshot();
    assert.deepEqual(snap.alpha, { value: '0 deg', unit: 'deg', upper: '180 deg' });
    assert.deepEqual(snap.mu, { value: 5, locked: true });
    assert.deepEqual(snap.broken, { error: 'sensor unplugged' });
    assert.deepEqual(Object.keys(snap), ['alpha', 'broken', 'model', 'mu', 'zeta']);
  });
});
