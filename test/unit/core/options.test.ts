import assert from 'node:assert/strict';
import {
  checkCallOptions,
  math,
  OptionError,
  parseOptions,
  q,
  SIGNAL_OPTIONS,
  z,
  zfunction,
  zinstance,
  zq,
  zwhere,
} from '../../../core/index.js';
import { DummyCamera } from '../../../devices/cameras/dummy.js';
import { DummyLinearMotor } from '../../../devices/motors/dummy.js';
import { throwsWith } from '../../support/async.js';

describe('core/options', () => {
  const schema = z.strictObject({
    n: z.number().int().min(1).max(10).optional(),
    x: z.number().optional(),
    flag: z.boolean().optional(),
    label: z.string().optional(),
    speed: zq('mm/s').optional(),
    mode: z.enum(['a', 'b']).optional(),
    cb: zfunction().optional(),
    when: zinstance(Date).optional(),
    names: z.array(z.string()).optional(),
    exposureTime: zq('s', { min: '0 s', max: '10 s' }).optional(),
    even: zwhere('an even number', (v): v is number => typeof v === 'number' && v % 2 === 0).optional(),
  });
  const check = (options: unknown) => parseOptions('T', schema, options);

  it('accepts valid and undefined values and returns the options, typed', () => {
    const options = {
      n: 3,
      x: -1.5,
      flag: false,
      label: '',
      speed: q('1 m/s'),
      mode: 'b' as const,
      cb: () => 1,
      when: new Date(),
      names: ['a'],
      exposureTime: q('10 s'),
      even: 4,
    };
    assert.equal(check(options), options, 'the same object (no copy)');
    check({ n: undefined });
    assert.deepEqual(check(undefined), {});
    check({});
  });

  it('gives the same answers while zod interprets a schema and after it compiled it (its first checks are interpreted)', () => {
    // A fresh schema with a nested object: its first checks run zod's interpreter (fast to start),
    // later ones the function zod compiles for it; every answer must be the same.
    const nested = z.strictObject({ n: z.number().int().min(1), inner: z.strictObject({ s: z.string() }).optional() });
    const answers = new Set<string>();
    for (let i = 0; i < 300; i++) {
      const good = { n: 1 + (i % 5), inner: { s: `x${i}` } };
      assert.equal(parseOptions('N', nested, good), good);
      for (const bad of [{ n: 0 }, { n: 1, inner: { s: 1 } }, { n: 1, inner: { t: '' } }, { m: 1 }]) {
        try {
          parseOptions('N', nested, bad);
          assert.fail(`accepted ${JSON.stringify(bad)} at check ${i}`);
        } catch (error) {
          assert.ok(error instanceof OptionError, String(error));
          answers.add(`${JSON.stringify(bad)} → ${error.message}`);
        }
      }
    }
    assert.equal(answers.size, 4, [...answers].join('\n'));
  });

  it('names the owner, the option, the problem and the value', () => {
    throwsWith(
      () => check({ m: 1 }),
      OptionError,
      "T: unknown option 'm' (allowed: cb, even, exposureTime, flag, label, mode, n, names, speed, when, x)",
    );
    throwsWith(() => check({ n: 1.5 }), OptionError, "T: option 'n' must be an integer in [1, 10], got 1.5");
    throwsWith(() => check({ n: 11 }), OptionError, /must be an integer in \[1, 10\], got 11/);
    throwsWith(() => check({ x: NaN }), OptionError, "T: option 'x' must be a finite number, got NaN");
    throwsWith(() => check({ x: -Infinity }), OptionError, /got -Infinity/);
    throwsWith(() => check({ x: '1' }), OptionError, /got "1"/);
    throwsWith(() => check({ flag: 1 }), OptionError, "T: option 'flag' must be true or false, got 1");
    throwsWith(
      () => check({ speed: 5 }),
      OptionError,
      "T: option 'speed' must be a quantity in mm/s, e.g. q('1 mm/s'), got 5",
    );
    throwsWith(
      () => check({ speed: q('5 mm') }),
      OptionError,
      "T: option 'speed' must be a quantity in mm/s, got 5 mm",
    );
    throwsWith(
      () => check({ speed: math.unit(Infinity, 'mm/s') }),
      OptionError,
      "T: option 'speed' must be finite, got Infinity mm / s",
    );
    throwsWith(() => check({ mode: 'c' }), OptionError, /must be one of "a", "b", got "c"/);
    throwsWith(() => check({ cb: 'f' }), OptionError, /must be a function/);
    throwsWith(() => check({ when: {} }), OptionError, "T: option 'when' must be a Date, got Object");
    throwsWith(() => check({ names: ['a', 2] }), OptionError, "T: option 'names.1' must be a string, got 2");
    throwsWith(() => check({ names: 'a' }), OptionError, `T: option 'names' must be an array of strings, got "a"`);
    throwsWith(() => check({ even: 3 }), OptionError, "T: option 'even' must be an even number, got 3");
    throwsWith(() => check(7), OptionError, 'T: options must be an object, got number');
    throwsWith(() => check(null), OptionError, 'T: options must be an object, got null');
    throwsWith(() => check([]), OptionError, 'T: options must be an object, got an array');
  });

  it('checks quantity ranges, with the range in the message', () => {
    throwsWith(
      () => check({ exposureTime: q('12 s') }),
      OptionError,
      "T: option 'exposureTime' must be a quantity in [0 s, 10 s], got 12 s",
    );
    throwsWith(() => check({ exposureTime: q('-1 ms') }), OptionError, /in \[0 s, 10 s\], got -1 ms/);
    check({ exposureTime: q('10000 ms') });
    assert.throws(() => zq('s', { min: '1 mm' }), /bound 1 mm is not a quantity in s/);
  });

  it('suggests the closest option for a typo, and none for a far one', () => {
    throwsWith(() => check({ sped: 1 }), OptionError, /unknown option 'sped', did you mean 'speed'\? \(allowed: cb, /);
    throwsWith(() => check({ exposuretime: 1 }), OptionError, /did you mean 'exposureTime'\?/);
    throwsWith(() => check({ lable: 1 }), OptionError, /did you mean 'label'\?/);
    throwsWith(() => check({ velocity: 1 }), OptionError, /^T: unknown option 'velocity' \(allowed/);
  });

  it('names an unknown key of a nested object with its path and the allowed ones there', () => {
    const nested = z.strictObject({
      name: z.string(),
      stop: z.strictObject({ count: z.number().optional(), idleMs: z.number().optional() }).optional(),
    });
    throwsWith(
      () => parseOptions('S', nested, { name: 'a', stop: { cuont: 2 } }),
      OptionError,
      "S: unknown option 'stop.cuont', did you mean 'stop.count'? (allowed: stop.count, stop.idleMs)",
    );
    throwsWith(
      () => parseOptions('S', nested, { stop: { idleMs: 'x' }, name: 'a' }),
      OptionError,
      'S: option \'stop.idleMs\' must be a finite number, got "x"',
    );
  });

  it('reports the first problem in the order the caller wrote the options', () => {
    throwsWith(() => check({ flag: 1, n: 0 }), OptionError, /option 'flag'/);
    throwsWith(() => check({ n: 0, flag: 1 }), OptionError, /option 'n'/);
    throwsWith(() => check({ zzz: 1, n: 0 }), OptionError, /unknown option 'zzz'/);
  });

  it('describes exclusive bounds', () => {
    const positive = z.strictObject({ maxFps: z.number().gt(0).optional() });
    throwsWith(
      () => parseOptions('W', positive, { maxFps: 0 }),
      OptionError,
      "W: option 'maxFps' must be a finite number in (0, Infinity], got 0",
    );
  });

  it('reports a missing required option', () => {
    const required = z.strictObject({ pattern: z.string(), n: z.number().optional() });
    throwsWith(
      () => parseOptions('FileCamera.create', required, {}),
      OptionError,
      "FileCamera.create: option 'pattern' is required (a string)",
    );
    throwsWith(() => parseOptions('FileCamera.create', required, undefined), OptionError, /'pattern' is required/);
  });

  it('checks call options only when there are some, naming the call lazily', () => {
    let named = 0;
    const owner = () => (named++, 'motor.position.set');
    checkCallOptions(owner, SIGNAL_OPTIONS, undefined);
    checkCallOptions(owner, SIGNAL_OPTIONS, {});
    checkCallOptions(owner, SIGNAL_OPTIONS, { signal: new AbortController().signal });
    assert.equal(named, 0);
    throwsWith(
      () => checkCallOptions(owner, SIGNAL_OPTIONS, { signl: 1 }),
      OptionError,
      "motor.position.set: unknown option 'signl', did you mean 'signal'? (allowed: signal)",
    );
    throwsWith(
      () => checkCallOptions(owner, SIGNAL_OPTIONS, { signal: 5 }),
      OptionError,
      "motor.position.set: option 'signal' must be an AbortSignal, got 5",
    );
  });

  it('call options go through the same checks: set(value, { signal }) and stream({ count })', async () => {
    const motor = await DummyLinearMotor.create({ name: 'flatMotor' });
    const camera = await DummyCamera.create({ name: 'camera', width: 4, height: 4 });
    try {
      await assert.rejects(
        motor.setPosition(q('1 mm'), { sigal: new AbortController().signal } as never),
        (e: unknown) =>
          e instanceof OptionError &&
          e.message === "flatMotor.position.set: unknown option 'sigal', did you mean 'signal'? (allowed: signal)",
      );
      assert.equal((await motor.getPosition()).toNumber('mm'), 0, 'the motor did not move');
      await assert.rejects(
        (async () => {
          for await (const _ of camera.stream({ count: -1 }));
        })(),
        (e: unknown) =>
          e instanceof OptionError &&
          e.message === "camera.stream: option 'count' must be an integer in [0, Infinity], got -1",
      );
      let n = 0;
      for await (const _ of camera.stream({ count: 2 })) n++;
      assert.equal(n, 2);
    } finally {
      await motor.disconnect();
      await camera.disconnect();
    }
  });
});
