import assert from 'node:assert/strict';
import { math, scalarStandIn, unitPow } from '../../../core/math.js';

describe('core/math', () => {
  it("Unit's pow gives what mathjs' pow gives", () => {
    const xs = [0, 1, -1, 2, -2, 0.5, -0.5, 10, 1e-3, 1e3, Infinity, -Infinity, NaN];
    const ys = [0, 1, -1, 2, 3, -3, 0.5, 1 / 3, 2.5, Infinity, -Infinity, NaN];
    for (const x of xs)
      for (const y of ys) {
        const want = math.pow(x, y);
        const got = unitPow(x, y);
        assert.equal(String(got), String(want), `pow(${x}, ${y})`);
      }
    const config = math.config as unknown as (options?: { predictable?: boolean }) => { predictable?: boolean };
    const predictable = config().predictable;
    try {
      config({ predictable: true });
      assert.equal(String(unitPow(-8, 1 / 3)), String(math.pow(-8, 1 / 3)));
    } finally {
      config({ predictable });
    }
  });

  it('units work, and pow, abs, fix, round and equal keep their matrix signatures', () => {
    assert.ok(math.unit('1 m').equals(math.unit('100 cm')));
    assert.ok(!math.unit('1 m').equals(math.unit('101 cm')));
    assert.equal(String(math.abs(math.unit(-2, 'mm'))), '2 mm');
    assert.equal(math.unit(0.002, 'm').toString(), '2 mm', 'the best prefix (abs) when printing');
    assert.deepEqual(math.abs([-1, 2]), [1, 2]);
    assert.deepEqual(math.round([1.4, 2.6]), [1, 3]);
    assert.deepEqual(math.equal([1, 2], [1, 3]), [true, false]);
    assert.ok(Math.abs(math.unit('5 mm^2').toNumber('m^2') - 5e-6) < 1e-18);
    assert.equal(String((math.unit('2 km') as unknown as { pow(p: number): object }).pow(2)), '4 km^2');
    assert.equal(math.multiply(math.unit(3, 'mm/s'), math.unit('2 s')).toString(), '6 mm');
    assert.deepEqual(
      math
        .unit('1.5 h')
        .splitUnit(['h', 'min'])
        .map((u) => u.toString()),
      ['1 h', '30 min'],
    );
    assert.deepEqual(
      math.pow(
        [
          [1, 2],
          [3, 4],
        ] as unknown as number,
        2,
      ),
      [
        [7, 10],
        [15, 22],
      ],
    );
    assert.deepEqual(math.fix([1.5, -1.5]), [1, -1]);
    assert.equal((math.pow(math.unit('3 m') as unknown as number, 2) as unknown as object).toString(), '9 m^2');
  });

  it("Unit's scalar operations give what mathjs gives, for numbers and the other types", () => {
    const m = math as unknown as Record<string, (a: unknown, b: unknown) => unknown> & typeof math;
    const ops = [
      ['addScalar', (a: number, b: number) => a + b],
      ['subtractScalar', (a: number, b: number) => a - b],
      ['multiplyScalar', (a: number, b: number) => a * b],
      ['divideScalar', (a: number, b: number) => a / b],
    ] as const;
    const xs = [0, -0, 1, -2.5, 1e-300, 1e300, Infinity, -Infinity, NaN];
    for (const [name, op] of ops) {
      const standIn = scalarStandIn(name, op);
      for (const x of xs)
        for (const y of xs) assert.ok(Object.is(standIn(x, y), m[name]!(x, y)), `${name}(${x}, ${y})`);
      for (const [a, b] of [
        [math.bignumber(2), math.bignumber(3)],
        [math.fraction(1, 3), math.fraction(1, 6)],
        [math.complex(1, 2), 3],
        [math.bignumber(2), 4],
      ])
        assert.equal(String(standIn(a, b)), String(m[name]!(a, b)), `${name}(${String(a)}, ${String(b)}) handed over`);
    }
    // Units use them: offsets (°C), conversions and products, with numbers and BigNumbers.
    assert.ok(Math.abs(math.unit('20 degC').toNumber('K') - 293.15) < 1e-12);
    assert.equal(math.unit('300 K').to('degC').toString(), '26.850000000000023 degC');
    assert.equal(math.unit(math.bignumber(2), 'mm').to('m').toString(), '0.002 m');
    assert.equal(math.divide(math.unit('6 mm'), math.unit('2 s')).toString(), '3 mm / s');
  });
});
