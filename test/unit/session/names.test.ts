/**
 * Session exports are named after their bindings from the moment they are made, so messages
 * while loading name them as the session does; an explicit `name` wins.
 */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { concert, removeTemp, tempHome } from './support.js';

describe('session names (real CLI)', function () {
  this.timeout(60_000);
  let home: string;
  beforeEach(() => (home = tempHome()));
  afterEach(() => removeTemp(home));

  it('names devices, experiments and addons after their variables before any message; `name` wins', () => {
    mkdirSync(join(home, 'concert'), { recursive: true });
    const file = join(home, 'concert', 'names.ts');
    writeFileSync(
      file,
      [
        "import { q } from 'concert';",
        "import { LinearMotor } from 'concert/devices/motors/dummy';",
        "import { Experiment } from 'concert/experiments';",
        "import { Accumulator } from 'concert/addons/local';",
        "export const sampleMotor = await LinearMotor.create({ lower: q('0 mm'), upper: q('10 mm') });",
        'export const typed: LinearMotor = await LinearMotor.create({',
        "  motionVelocity: q('5 mm/s'),",
        '});',
        'const hidden = await LinearMotor.create();',
        'export { hidden as renamed };',
        "export const named = await LinearMotor.create({ name: 'explicit' });",
        'export const scan = await Experiment.create([]);',
        'export const sums = await Accumulator.create(scan);',
        'console.log("NAMES", sampleMotor.name, typed.name, hidden.name, named.name, scan.name, sums.name);',
        "await sampleMotor.setPosition(q('20 mm'));",
      ].join('\n'),
    );
    const r = concert(home, ['start', 'names', '--non-interactive']);
    assert.equal(r.status, 1);
    assert.match(r.stdout, /NAMES sampleMotor typed hidden explicit scan sums/);
    assert.match(r.stderr, /names\.ts:15:19: Sorry, sampleMotor\.position: 20 mm is out of range \[0 mm, 10 mm\]/);
  });

  it("the demo's experiment and addons are called by their variables in messages", () => {
    const r = concert(home, ['start', 'demo'], {
      input: 'console.log("NAMES", experiment.name, writer.name, reco.name, flatMotor.name)\n',
      timeoutMs: 60_000,
    });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /NAMES experiment writer reco flatMotor/);
  });
});
