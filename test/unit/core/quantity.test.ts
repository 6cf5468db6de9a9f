import assert from 'node:assert/strict';
import { compatible, format, isQuantity, math, q, toNumber, UnitError } from '../../../core/index.js';
import { throwsWith } from '../../support/async.js';

describe('core/quantity', () => {
  it('makes quantities from a string or a number and a unit', () => {
    assert.equal(q('10 mm').toNumber('mm'), 10);
    assert.equal(q(10, 'mm').toNumber('mm'), 10);
    assert.ok(Math.abs(q('2.5 um').toNumber('nm') - 2500) < 1e-9);
    assert.ok(Math.abs(q(1, 'mm/s').toNumber('um/s') - 1000) < 1e-9);
    assert.equal(q('1 deg').toNumber('rad'), Math.PI / 180);
    assert.ok(isQuantity(q('1 s')));
    assert.ok(!isQuantity(1));
    assert.ok(!isQuantity('1 mm'));
    assert.ok(!isQuantity(null));
  });

  it('knows px (pixel) as a unit of its own', () => {
    assert.equal(q('512 px').toNumber('px'), 512);
    assert.equal(q(3, 'pixels').toNumber('px'), 3);
    assert.equal(format(q('10 px')), '10 px');
    assert.ok(!compatible(q('1 px'), 'mm'));
    assert.ok(compatible(q('1 px'), 'px'));
  });

  it('prints rounding away floating noise', () => {
    const nm = q('1 um').to('nm');
    assert.equal(String(nm), '999.9999999999999 nm', 'mathjs itself shows the noise');
    assert.equal(format(nm), '1000 nm');
    assert.equal(format(q(0.1 + 0.2, 'mm')), '0.3 mm');
    assert.equal(format(q('2.5 mm')), '2.5 mm');
    assert.equal(format(0.1 + 0.2), '0.3');
  });

  it('converts with toNumber and names both units on a mismatch', () => {
    assert.equal(toNumber(q('1 m'), 'mm'), 1000);
    throwsWith(
      () => toNumber(q('1 s'), 'mm', 'flatMotor.position'),
      UnitError,
      /^flatMotor\.position: 1 s has the wrong unit; expected a quantity in mm$/,
    );
  });

  it('refuses unknown units, missing numbers and non-finite values with UnitError', () => {
    throwsWith(() => q('10 foo'), UnitError, /10 foo.*foo/);
    throwsWith(() => q('mm'), UnitError, /has no number; write e\.g\. q\('1 mm'\)/);
    throwsWith(() => q(5), UnitError, /q\(5\) needs a unit/);
    throwsWith(() => q(NaN, 'mm'), UnitError, /finite number, got NaN/);
    throwsWith(() => q(Infinity, 'mm'), UnitError, /finite number, got Infinity/);
    throwsWith(() => q('NaN mm'), UnitError);
    throwsWith(() => q(1, 'furlongs per fortnight'), UnitError);
    throwsWith(() => q({} as never), UnitError, /takes a string/);
    throwsWith(() => toNumber(math.unit(NaN, 'mm'), 'mm'), UnitError, /not a finite number/);
  });
});
