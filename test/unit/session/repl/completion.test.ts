import assert from 'node:assert/strict';
import { LinearMotor } from '../../../../devices/motors/dummy.js';
import { Camera } from '../../../../devices/cameras/dummy.js';
import { Experiment } from '../../../../experiments/index.js';
import { completeParameterName, completeSelectionValue } from '../../../../session/repl/completion.js';
import { isPublicMember } from '../../../../session/repl/public-api.js';
import { TestRepl } from './support.js';

describe('session/repl/completion', () => {
  it("completes parameter names inside .param('…", async () => {
    const motor = await LinearMotor.create();
    const scope = { motor, stage: { x: motor }, other: {} };
    assert.deepEqual(completeParameterName('motor.param("po', scope), [['position")'], 'po']);
    assert.deepEqual(completeParameterName("stage.x.param('sta", scope), [["state')"], 'sta']);
    assert.deepEqual(completeParameterName('motor.param("', scope), [['position")', 'state")'], '']);
    assert.equal(completeParameterName('motor.param(x', scope), undefined);
    assert.equal(completeParameterName('other.param("p', scope), undefined, 'no parameters: node completes');
    assert.equal(completeParameterName('motor.getPo', scope), undefined);
  });

  it('is part of the REPL completer, with node completing everything else', async () => {
    const t = new TestRepl({ complMotor: await LinearMotor.create() });
    const complete = (line: string) =>
      new Promise<[string[], string]>((resolve, reject) =>
        (t.repl.server.completer as (l: string, cb: (e: Error | null, r: [string[], string]) => void) => void)(
          line,
          (e, r) => (e ? reject(e) : resolve(r)),
        ),
      );
    try {
      assert.deepEqual(await complete('complMotor.param("po'), [['position")'], 'po']);
      const [names] = await complete('complMotor.getPo');
      assert.ok(names.includes('complMotor.getPosition'), names.join(' '));
    } finally {
      await t.close();
    }
  });

  it('knows the public API from the class declarations: protected, private and @internal are not', async () => {
    const motor = await LinearMotor.create();
    const camera = await Camera.create();
    assert.ok(isPublicMember(motor, 'setPosition'));
    assert.ok(!isPublicMember(motor, 'moveHook'), 'a protected hook');
    assert.ok(!isPublicMember(camera, 'grabHook'));
    assert.ok(!isPublicMember(motor, 'parameter'), 'protected in Parameterizable');
    assert.ok(!isPublicMember(motor, 'hasOwnProperty'), "Object.prototype's members are noise");
    assert.ok(isPublicMember({ moveHook: 1 }, 'moveHook'), 'other objects: everything');
  });

  it('completes Selection values inside .set("…") and .setX("…")', async () => {
    const camera = await Camera.create();
    const scope = { cam: camera };
    const values = (camera.param('triggerSource') as unknown as { values: string[] }).values;
    assert.deepEqual(completeSelectionValue('cam.setTriggerSource("', scope), [values.map((v) => `${v}")`), '']);
    assert.deepEqual(completeSelectionValue("cam.triggerSource.set('SO", scope), [["SOFTWARE')"], 'SO']);
    assert.equal(completeSelectionValue('cam.setExposureTime("', scope), undefined, 'not a Selection');
  });

  it('the REPL completes public members only: experiment.ru⇥ → run, running; no hooks', async () => {
    const t = new TestRepl({ complM2: await LinearMotor.create(), complE: await Experiment.create([]) });
    const complete = (line: string) =>
      new Promise<[string[], string]>((resolve, reject) =>
        (t.repl.server.completer as (l: string, cb: (e: Error | null, r: [string[], string]) => void) => void)(
          line,
          (e, r) => (e ? reject(e) : resolve(r)),
        ),
      );
    try {
      assert.deepEqual((await complete('complE.ru'))[0], ['complE.run', 'complE.running']);
      const [motor] = await complete('complM2.mo');
      assert.ok(motor.includes('complM2.move') && motor.includes('complM2.motion'), motor.join(' '));
      assert.ok(!motor.includes('complM2.moveHook'), motor.join(' '));
      const [all] = await complete('complE.');
      assert.ok(all.includes('complE.attach') && all.includes('complE.add'), all.join(' '));
      assert.ok(!all.some((m) => /inspectFields|stateParameter|hasOwnProperty|__proto__/.test(m)), all.join(' '));
      assert.ok(
        all[0] !== '' && all.at(-1) !== '' && !all.some((m, i) => m === '' && all[i + 1] === ''),
        'no empty groups',
      );
    } finally {
      await t.close();
    }
  });
});
