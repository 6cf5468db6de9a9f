import { checkOptions, opt, OptionError, q } from '../../../core/index.js';
import { throwsWith } from '../../support/async.js';

describe('core/options', () => {
  const spec = {
    n: opt.number({ min: 1, max: 10, integer: true }),
    x: opt.number(),
    flag: opt.boolean,
    label: opt.string,
    speed: opt.quantity('mm/s'),
    mode: opt.oneOf(['a', 'b']),
    cb: opt.function,
    when: opt.instance(Date),
  };

  it('accepts valid and undefined values', () => {
    checkOptions('T', spec, {
      n: 3,
      x: -1.5,
      flag: false,
      label: '',
      speed: q('1 m/s'),
      mode: 'b',
      cb: () => 1,
      when: new Date(),
    });
    checkOptions('T', spec, { n: undefined });
    checkOptions('T', spec, undefined);
    checkOptions('T', spec, {});
  });

  it('names the owner, the option, the problem and the value', () => {
    throwsWith(
      () => checkOptions('T', spec, { m: 1 }),
      OptionError,
      "T: unknown option 'm' (allowed: cb, flag, label, mode, n, speed, when, x)",
    );
    throwsWith(
      () => checkOptions('T', spec, { n: 1.5 }),
      OptionError,
      "T: option 'n' must be an integer in [1, 10], got 1.5",
    );
    throwsWith(() => checkOptions('T', spec, { n: 11 }), OptionError, /must be an integer in \[1, 10\], got 11/);
    throwsWith(
      () => checkOptions('T', spec, { x: NaN }),
      OptionError,
      "T: option 'x' must be a finite number, got NaN",
    );
    throwsWith(() => checkOptions('T', spec, { x: -Infinity }), OptionError, /got -Infinity/);
    throwsWith(() => checkOptions('T', spec, { x: '1' }), OptionError, /got "1"/);
    throwsWith(
      () => checkOptions('T', spec, { flag: 1 }),
      OptionError,
      "T: option 'flag' must be true or false, got 1",
    );
    throwsWith(
      () => checkOptions('T', spec, { speed: 5 }),
      OptionError,
      "T: option 'speed' must be a quantity in mm/s, e.g. q('1 mm/s'), got 5",
    );
    throwsWith(
      () => checkOptions('T', spec, { speed: q('5 mm') }),
      OptionError,
      "T: option 'speed' must be a quantity in mm/s, got 5 mm, got 5 mm",
    );
    throwsWith(() => checkOptions('T', spec, { mode: 'c' }), OptionError, /must be one of "a", "b"/);
    throwsWith(() => checkOptions('T', spec, { cb: 'f' }), OptionError, /must be a function/);
    throwsWith(() => checkOptions('T', spec, { when: {} }), OptionError, "T: option 'when' must be a Date, got Object");
    throwsWith(() => checkOptions('T', spec, 7), OptionError, 'T: options must be an object, got number');
  });
});
