import assert from 'node:assert/strict';
import { LinearMotor } from '../../../../devices/motors/dummy.js';
import { completeParameterName } from '../../../../session/repl/completion.js';
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
});
