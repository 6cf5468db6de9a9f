import assert from 'node:assert/strict';
import { OptionError } from '../../../../core/errors.js';
import { formatFileName, parseNamePattern } from '../../../../walkers/formats/name-pattern.js';

describe('name patterns', () => {
  it('formats indices as Python str.format does', () => {
    // Expected values from Python: 'frame_{:06}.tif'.format(42) etc.
    const cases: [string, number, string][] = [
      ['frame_{:06}.tif', 42, 'frame_000042.tif'],
      ['frame_{:>06}.tif', 42, 'frame_000042.tif'],
      ['frame_{}.tif', 42, 'frame_42.tif'],
      ['frame_{0}.tif', 7, 'frame_7.tif'],
      ['frame_{0:04d}.tif', 7, 'frame_0007.tif'],
      ['f{:6}.tif', 5, 'f     5.tif'],
      ['f{:<06}.tif', 5, 'f500000.tif'],
      ['f{:^6}.tif', 5, 'f  5   .tif'],
      ['f{:x>4}.tif', 12, 'fxx12.tif'],
      ['f{:03}.tif', 123456, 'f123456.tif'],
      ['{{literal}}_{:02}.tif', 3, '{literal}_03.tif'],
    ];
    for (const [pattern, index, expected] of cases) assert.equal(formatFileName(pattern, index), expected, pattern);
  });

  it('recognizes the names it produces', () => {
    const names = parseNamePattern('frame_{:06}.tif');
    assert.ok(names.matches('frame_000000.tif'));
    assert.ok(names.matches('frame_1234567.tif'));
    assert.ok(!names.matches('frame_000000.tif.partial'));
    assert.ok(!names.matches('frame_abc.tif'));
    assert.ok(!names.matches('other_000001.tif'));
  });

  it('rejects patterns without exactly one usable placeholder', () => {
    for (const bad of ['frame.tif', 'a_{}_{}.tif', 'a_{:.3f}.tif', 'a_{name}.tif', 'a_{.tif', 'a_}.tif', 'dir/{}.tif'])
      assert.throws(() => parseNamePattern(bad), OptionError, bad);
    assert.throws(() => parseNamePattern('frame.tif'), /has no placeholder for the file index/);
    assert.throws(() => formatFileName('{}', -1), OptionError);
  });
});
