/**
 * The interactive session, driven through tmux as a person would: start `concert start demo`,
 * type at the prompt, press Ctrl-C, read the screen.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { DrivenSession, have, removeTemp, tempHome } from './support.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('session REPL (driven through tmux)', function () {
  this.timeout(60_000);
  let home: string;
  let session: DrivenSession | undefined;

  before(function () {
    if (!have('tmux')) {
      console.log('    skipped: tmux is not installed (apt-get install tmux)');
      this.skip();
    }
  });
  beforeEach(() => {
    home = tempHome();
  });
  afterEach(() => {
    session?.kill();
    session = undefined;
    removeTemp(home);
  });

  async function startDemo(args: string[] = []): Promise<DrivenSession> {
    session = new DrivenSession(home, 'demo', args);
    await session.ready();
    return session;
  }

  it('starts the shipped demo, moves a motor and reads its position', async () => {
    const s = await startDemo();
    assert.match(s.tmux.screen(), /Concert session 'demo'/);
    assert.equal(await s.run('await flatMotor.setPosition(q("2 mm"))'), '');
    assert.equal(await s.run('await flatMotor.getPosition()'), '2 mm');
    assert.equal(await s.run('await flatMotor.getState()'), "'standby'");
    // TypeScript input, bindings that persist, multi-line input
    await s.run('const step: number = 3');
    assert.equal(await s.run('step * 2'), '6');
    s.tmux.line('function twice(x: number) {');
    s.tmux.line('  return 2 * x');
    const out = await s.run('}');
    assert.equal(out, '');
    assert.equal(await s.run('twice(21)'), '42');
    // import at the prompt
    await s.run('import { LinearMotor as Dummy } from "concert/devices/motors/dummy"');
    assert.equal(await s.run('Dummy.name'), "'DummyLinearMotor'");
    // a session function with its manual
    assert.match(await s.run('pdoc()'), /alignSample\(\)\s+Moves the flat motor out of the beam/);
    assert.match(await s.run('ddoc()'), /flatMotor \(DummyLinearMotor\)[\s\S]*position\s+mm\s+rw\s+axis position/);
    assert.match(await s.run('await dstate()'), /tomoMotor \(DummyRotationMotor\)[\s\S]*state\s+standby/);
  });

  it('prints devices, parameters, experiments and frames in short forms; a forgotten await says so', async () => {
    const s = await startDemo();
    await s.run('await flatMotor.setPosition(q("2 mm"))');
    assert.match(await s.run('flatMotor'), /^LinearMotor flatMotor \(standby\) \{ .*position: 2 mm.* \}$/);
    assert.equal(await s.run('flatMotor.position'), 'Quantity flatMotor.position: 2 mm');
    assert.match(
      await s.run('experiment'),
      /^ContinuousTomography experiment \(standby\) \{ iteration: 0, acquisitions: darks \(10\), flats \(10\), radios \(200\), addons: writer, reco \}$/,
    );
    assert.equal(
      await s.run('flatMotor.getPosition()'),
      'a Promise (still pending): add `await` to wait for its value',
    );
    assert.match(
      await s.run('ddoc(camera)'),
      /^camera \(Camera\)\n[\s\S]*triggerSource\s+rw\s+'AUTO' \| 'SOFTWARE' \| 'EXTERNAL'/,
    );
  });

  it('Ctrl-C stops a long move where it is, the prompt returns within a second, the session goes on', async () => {
    const s = await startDemo();
    const before = s.prompts();
    s.tmux.line('await tomoMotor.setPosition(q("300 deg"))'); // 10 s at 30 deg/s
    await sleep(1000);
    const t0 = performance.now();
    s.tmux.keys('C-c');
    await s.waitForPrompts(before + 1, 5000);
    const elapsed = performance.now() - t0;
    assert.ok(elapsed < 1000, `prompt back after ${elapsed.toFixed(0)} ms`);
    assert.match(s.tmux.screen(), /Interrupted \(Ctrl-C\)/);
    const position = Number.parseFloat(await s.run('(await tomoMotor.getPosition()).toNumber("deg")'));
    assert.ok(position > 0.1 && position < 200, `stopped at ${position} deg`);
    assert.equal(await s.run('await tomoMotor.getState()'), "'standby'");
    await sleep(300);
    const later = Number.parseFloat(await s.run('(await tomoMotor.getPosition()).toNumber("deg")'));
    assert.equal(later, position, 'the motor stays where it stopped');
    // the session keeps working
    await s.run('await tomoMotor.move(q("1 deg"))');
    const moved = Number.parseFloat(await s.run('(await tomoMotor.getPosition()).toNumber("deg")'));
    assert.ok(Math.abs(moved - (position + 1)) < 1e-6, `moved to ${moved} deg`);
  });

  it('Ctrl-C at an empty prompt behaves as in node; twice quits', async () => {
    const s = await startDemo();
    s.tmux.keys('C-c');
    await s.tmux.waitFor('(To exit, press Ctrl+C again or Ctrl+D or type .exit)');
    s.tmux.keys('C-c');
    await s.tmux.waitFor('[exited 0]');
  });

  it('a typo or a Concert error prints one clear line and the session lives on', async () => {
    const s = await startDemo();
    assert.equal(
      await s.run('await flatMotor.setPosition(q("2 kg"))'),
      'Sorry, flatMotor.position: 2 kg has the wrong unit; expected a quantity in mm',
    );
    assert.match(
      await s.run('flatMotr.getPosition()'),
      /^ReferenceError: flatMotr is not defined \(at <prompt>:1:1\); did you mean flatMotor\?$/,
    );
    assert.match(await s.run('flatMotor.moove(q("1 mm"))'), /^TypeError: flatMotor.moove is not a function/);
    assert.match(await s.run('const = 3'), /^SyntaxError: Variable declaration expected\. \(at <prompt>:1:7\)$/);
    assert.equal(await s.run('1 + 1'), '2');
    // full traces go to the log
    const log = readFileSync(join(home, 'concert', 'concert.log'), 'utf8');
    assert.match(
      log,
      /ERROR demo:repl: error at the prompt: flatMotr is not defined\nReferenceError: flatMotr is not defined\n\s+at /,
    );
  });

  it('completes globals, device methods and parameter names with Tab', async () => {
    const s = await startDemo();
    s.tmux.type('flatMo');
    await sleep(150);
    s.tmux.keys('Tab');
    await s.tmux.waitFor(/demo > flatMotor$/m);
    s.tmux.type('.getPo');
    await sleep(150);
    s.tmux.keys('Tab');
    await s.tmux.waitFor(/demo > flatMotor\.getPosition$/m);
    s.tmux.keys('C-u');
    s.tmux.type('flatMotor.param("po');
    await sleep(150);
    s.tmux.keys('Tab');
    await s.tmux.waitFor(/demo > flatMotor\.param\("position"\)$/m);
    s.tmux.keys('C-u');
    // the public API only: experiment.ru⇥ offers run and running; no protected hooks
    s.tmux.type('experiment.ru');
    await sleep(150);
    s.tmux.keys('Tab');
    await sleep(150);
    s.tmux.keys('Tab');
    await s.tmux.waitFor(/experiment\.run\s+experiment\.running/);
    s.tmux.keys('C-u');
    s.tmux.type('camera.grab');
    await sleep(150);
    s.tmux.keys('Tab');
    await s.tmux.waitFor(/demo > camera\.grab$/m);
    s.tmux.keys('Tab');
    await sleep(300);
    assert.doesNotMatch(s.tmux.screen(), /grabHook/);
    s.tmux.keys('C-u');
    s.tmux.type('camera.setTriggerSource("SO');
    await sleep(150);
    s.tmux.keys('Tab');
    await s.tmux.waitFor(/demo > camera\.setTriggerSource\("SOFTWARE"\)$/m);
    s.tmux.keys('C-u');
  });

  it('keeps history per session', async () => {
    const s = await startDemo();
    await s.run('const remembered = 41 + 1');
    s.tmux.keys('C-d');
    await s.tmux.waitFor('[exited 0]');
    s.kill();
    const history = join(home, 'concert', '.demo.history');
    assert.ok(existsSync(history));
    assert.match(readFileSync(history, 'utf8'), /const remembered = 41 \+ 1/);
    const again = await startDemo();
    again.tmux.keys('Up');
    await again.tmux.waitFor(/demo > const remembered = 41 \+ 1/);
  });

  it('abort() cancels a move started in the background', async () => {
    const s = await startDemo();
    await s.run('const moving = tomoMotor.setPosition(q("300 deg")).catch((e) => e.name)');
    await sleep(300);
    assert.equal(await s.run('await tomoMotor.getState()'), "'moving'");
    assert.match(await s.run('abort()'), /^Aborted \d+ operations?: set tomoMotor\.position/);
    assert.equal(await s.run('abort()'), 'Nothing was running: nothing to abort');
    assert.equal(await s.run('await moving'), "'AbortError'");
    assert.equal(await s.run('await tomoMotor.getState()'), "'standby'");
  });

  it('a second Ctrl-C while the cleanup runs says so; a third stops waiting', async () => {
    mkdirSync(join(home, 'concert'), { recursive: true });
    writeFileSync(
      join(home, 'concert', 'stubborn.ts'),
      [
        'import { startOperation } from "concert";',
        '/** An operation that takes 4 s to notice it was aborted. */',
        'export async function stubborn(): Promise<void> {',
        '  const op = startOperation();',
        '  try {',
        '    await new Promise<void>((resolve) => op.signal.addEventListener("abort", () => setTimeout(resolve, 4000)));',
        '  } finally {',
        '    op.done();',
        '  }',
        '}',
      ].join('\n'),
    );
    session = new DrivenSession(home, 'stubborn');
    await session.ready();
    const s = session;
    const before = s.prompts();
    s.tmux.line('await stubborn()');
    await sleep(500);
    s.tmux.keys('C-c');
    await s.tmux.waitFor('Interrupted (Ctrl-C): stopping what the command started');
    await s.tmux.waitFor('Still stopping 1 operation(s)', 3000);
    s.tmux.keys('C-c');
    await s.tmux.waitFor(
      /Still cleaning up after Ctrl-C \(1 operation\(s\) running\); press Ctrl-C again to stop waiting/,
    );
    assert.equal(s.prompts(), before, 'no prompt while cleaning up');
    s.tmux.keys('C-c');
    await s.tmux.waitFor('Stopped waiting for the cleanup');
    await s.waitForPrompts(before + 1, 2000);
    assert.equal(await s.run('1 + 2'), '3');
  });

  it('refuses a second start of the same session while the first runs', async () => {
    await startDemo();
    const second = new DrivenSession(home, 'demo');
    try {
      await second.tmux.waitFor(/\[exited 1\]/);
      assert.match(second.tmux.screen(), /Sorry, session 'demo' is already running \(pid \d+\)/);
    } finally {
      second.kill();
    }
  });

  it('an interactive start of a broken session reports file:line:column and exits non-zero', async () => {
    mkdirSync(join(home, 'concert'), { recursive: true });
    writeFileSync(join(home, 'concert', 'broken.ts'), 'export const a = 1;\nexport const b = (;\n');
    session = new DrivenSession(home, 'broken');
    const screen = await session.tmux.waitFor(/\[exited \d+\]/);
    assert.match(
      screen,
      /broken\.ts:2:19: SyntaxError: (Expression expected\.|Unexpected ";")\nThe session failed to load\./,
    );
    assert.match(screen, /\[exited 1\]/);
  });

  // Once experiments/ lands (the demo gets `experiment`), add here:
  it('runs a short experiment from the prompt', async () => {
    const s = await startDemo();
    await s.run('await experiment.numProjections.set(40)');
    const out = await s.run('const r = await experiment.run(); r.acquisitions.radios.frames', 30_000);
    assert.equal(out.split('\n').at(-1), '40');
    assert.equal(await s.run('await experiment.state.get()'), "'standby'");
    assert.equal(await s.run('(await import("node:fs")).readdirSync(walker.root + "/scan_0000/radios").length'), '40');
    assert.equal(await s.run('reco.slices.length'), '1');
    assert.match(await s.run('writer.summary().framesWritten'), /^60$/);
  });

  it('Ctrl-C of a running experiment ends it cancelled with files complete, and it runs again', async () => {
    const s = await startDemo();
    const before = s.prompts();
    s.tmux.line('await experiment.run()');
    await sleep(2000); // darks written, flats on the way (a whole run takes about 5 s)
    const t0 = performance.now();
    s.tmux.keys('C-c');
    await s.waitForPrompts(before + 1, 5000);
    assert.ok(performance.now() - t0 < 1500, 'the prompt is back quickly');
    assert.equal(await s.run('await experiment.state.get()'), "'cancelled'");
    assert.equal(await s.run('await shutter.getState()'), "'closed'");
    assert.equal(await s.run('await continuousTomoMotor.getState()'), "'standby'");
    const files = await s.run(
      '(await import("node:fs")).readdirSync(walker.root + "/scan_0000", { recursive: true }).filter((f) => ' +
        'String(f).endsWith(".partial")).length',
    );
    assert.equal(files, '0', 'no partial files left');
    await s.run('await experiment.numProjections.set(20)');
    const again = await s.run('(await experiment.run()).directory', 30_000);
    assert.equal(again.split('\n').at(-1), "'scan_0001'");
  });
});
