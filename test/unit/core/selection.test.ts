import assert from 'node:assert/strict';
import { Device, ParameterError, SelectionError, soft } from '../../../core/index.js';
import { rejectsWith } from '../../support/async.js';

class Filter extends Device {
  readonly filter = this.selection<'Al' | 'Cu' | 'none'>(
    'filter',
    ['Al', 'Cu', 'none'],
    soft<'Al' | 'Cu' | 'none'>('none'),
  );
  readonly binning = this.selection<number>('binning', [1, 2, 4], soft(1));
}

describe('core/selection', () => {
  it('accepts listed values and refuses others with SelectionError listing the allowed ones', async () => {
    const f = await Filter.create({ name: 'wheel' });
    await f.filter.set('Cu');
    assert.equal(await f.filter.get(), 'Cu');
    const e = await rejectsWith(
      f.filter.set('Au' as never),
      SelectionError,
      'wheel.filter: "Au" is not allowed (allowed: "Al", "Cu", "none")',
    );
    assert.ok(e instanceof ParameterError);
    await rejectsWith(f.filter.set('cu' as never), SelectionError);
    await rejectsWith(f.binning.set(3), SelectionError, 'wheel.binning: 3 is not allowed (allowed: 1, 2, 4)');
    await rejectsWith(f.binning.set('2' as never), SelectionError);
    await rejectsWith(f.binning.set(NaN), SelectionError);
    assert.equal(await f.filter.get(), 'Cu');
    assert.equal(await f.binning.get(), 1);
    assert.deepEqual(f.filter.values, ['Al', 'Cu', 'none']);
    assert.equal(f.filter.kind, 'selection');
  });
});
