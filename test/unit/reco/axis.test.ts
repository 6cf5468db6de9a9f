import assert from 'node:assert/strict';
import { axisEdgeWarning, searchAxis } from '../../../reco/index.js';

describe('reco/axis: searchAxis', () => {
  const peakAt = (x: number) => async (c: number) => -((c - x) ** 2);

  it('refines around the best coarse candidate and finds an optimum inside the region', async () => {
    const search = await searchAxis([90, 110, 2], peakAt(101.3));
    assert.ok(Math.abs(search.center - 101.3) <= 0.1, `found ${search.center}`);
    assert.equal(search.atEdge, false);
    assert.equal(axisEdgeWarning(search, [90, 110, 2]), undefined);
  });

  it('says when the best center is at the edge of the region: the optimum may lie outside', async () => {
    const search = await searchAxis([0, 10, 1], peakAt(100));
    assert.equal(search.atEdge, true);
    assert.match(
      axisEdgeWarning(search, [0, 10, 1])!,
      /^findAxis: the best center \d+(\.\d+)? px is at the edge of the candidates \[0, 10, 1\]; the optimum may lie outside them/,
    );
    assert.equal((await searchAxis([0, 10, 1], peakAt(-50))).atEdge, true);
  });

  it('refuses an empty or unordered region', async () => {
    await assert.rejects(searchAxis([10, 0, 1], peakAt(0)), /centers must be \[from, to, step\] with from < to/);
  });
});
