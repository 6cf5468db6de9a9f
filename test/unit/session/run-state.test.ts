/**
 * Run state at the prompt, through the real CLI: leaving a session while an experiment runs in
 * the background (Ctrl-D, SIGTERM) cancels it cleanly; Ctrl-C of `await run` says what goes on;
 * the progress bar shows `paused`; a session that fails after opening a socket exits at once;
 * piped input never crashes inside node's REPL.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { concert, concertBin, DrivenSession, have, removeTemp, root, tempHome } from './support.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** What a command printed, without the progress bar of a run going on in the background. */
async function quiet(s: DrivenSession, input: string): Promise<string> {
  const out = await s.run(input);
  return out
    .split('\n')
    .filter((l) => !/^experiment scan_\d+ \[/.test(l))
    .join('\n')
    .trim();
}

/** The scan directory of the demo's last run (its walker writes into a fresh temporary directory). */
function demoScan(screen: string): string {
  const m = /WALKER (\/\S+)/.exec(screen);
  assert.ok(m, `no walker root on screen:\n${screen}`);
  return join(m[1]!, 'scan_0000');
}

/** A session that opens a TCP server and a ZeroMQ socket, then fails. */
const SOCKET_THEN_FAIL = [
  "import { ZmqReceiver } from 'concert/transport';",
  "import { createServer } from 'node:net';",
  "export const server = createServer().listen(0, '127.0.0.1');",
  "export const receiver = await ZmqReceiver.create({ bind: 'tcp://127.0.0.1:*' });",
  "throw new Error('the camera server is not there');",
].join('\n');

describe('run state at the prompt (real CLI)', function () {
  this.timeout(90_000);
  let home: string;
  let session: DrivenSession | undefined;
  beforeEach(() => {
    home = tempHome();
  });
  afterEach(() => {
    session?.kill();
    session = undefined;
    removeTemp(home);
  });

  const writeSession = (name: string, text: string) => {
    mkdirSync(join(home, 'concert'), { recursive: true });
    writeFileSync(join(home, 'concert', `${name}.ts`), text);
    return join(home, 'concert', `${name}.ts`);
  };

  it('piped input: a failing await, a bad call and every later line run; no crash inside node:repl', () => {
    const r = concert(home, ['start', 'demo'], {
      input: [
        "await flatMotor.setPosition(q('1 kg'))",
        'flatMotor.nosuch()',
        "console.log('third')",
        "await Promise.reject(new Error('fourth fails'))",
        "console.log('fifth')",
        "await flatMotor.setPosition(q('1 kg'))",
      ].join('\n'),
      timeoutMs: 60_000,
    });
    assert.doesNotMatch(r.stderr + r.stdout, /node:repl|Cannot read properties/);
    assert.match(r.stdout, /Sorry, flatMotor\.position: 1 kg has the wrong unit/);
    assert.match(r.stdout, /TypeError: flatMotor\.nosuch is not a function/);
    assert.match(r.stdout, /third/);
    assert.match(r.stdout, /Error: fourth fails/);
    assert.match(r.stdout, /fifth/);
    assert.equal(r.stdout.match(/1 kg has the wrong unit/g)?.length, 2, 'the last line ran too');
    assert.equal(r.status, 1, 'lines failed: exit status 1');
  });

  it('--non-interactive: a session that fails after opening sockets exits 1 within a second', async () => {
    const file = writeSession('sockets', SOCKET_THEN_FAIL);
    const child = spawn(process.execPath, [concertBin, 'start', '--filename', file, '--non-interactive'], {
      cwd: root,
      env: { ...process.env, XDG_DATA_HOME: home },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    let failedAt: number | undefined;
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
      if (failedAt === undefined && stderr.includes('The session failed to load.')) failedAt = performance.now();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    const status = await new Promise<number | null>((resolve) => child.on('close', resolve));
    clearTimeout(timer);
    const exitedAt = performance.now();
    assert.equal(status, 1, stderr);
    assert.match(stderr, /sockets\.ts:5:7: Error: the camera server is not there/);
    assert.ok(failedAt !== undefined);
    assert.ok(exitedAt - failedAt < 1000, `exited ${(exitedAt - failedAt).toFixed(0)} ms after the failure`);
  });

  it('--non-interactive: a move nobody awaits when the file ends is cancelled and the session exits 0, without a trace', () => {
    const file = writeSession(
      'background',
      [
        "import { q } from 'concert';",
        "import { LinearMotor } from 'concert/devices/motors/dummy';",
        "const m = await LinearMotor.create({ name: 'm', motionVelocity: q('1 mm/s') });",
        "void m.setPosition(q('10 mm'));",
        "console.log('file ended');",
      ].join('\n'),
    );
    const r = concert(home, ['start', '--filename', file, '--non-interactive'], { timeoutMs: 30_000 });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /file ended/);
    assert.doesNotMatch(r.stderr, /AbortError|DOMException|at /);
    assert.match(
      readFileSync(join(home, 'concert', 'concert.log'), 'utf8'),
      /Cancelling what is still running before leaving/,
    );
  });

  describe('interactive (tmux)', () => {
    before(function () {
      if (!have('tmux')) {
        console.log('    skipping: tmux is not installed (apt-get install tmux)');
        this.skip();
      }
    });

    it('a session that fails after opening sockets exits 1 at once', async () => {
      writeSession('sockets', SOCKET_THEN_FAIL);
      session = new DrivenSession(home, 'sockets');
      const screen = await session.tmux.waitFor(/\[exited \d+\]/, 20_000);
      assert.match(screen, /Error: the camera server is not there\nThe session failed to load\./);
      assert.match(screen, /\[exited 1\]/);
    });

    async function demoWithBackgroundRun(): Promise<{ s: DrivenSession; scan: string }> {
      session = new DrivenSession(home, 'demo');
      const s = session;
      await s.ready();
      await s.run('console.log("WALKER", walker.root)');
      const scan = demoScan(s.tmux.screen());
      await s.run('const rp = experiment.run()');
      await sleep(1500);
      return { s, scan };
    }

    function assertCancelledCleanly(scan: string): void {
      const finish = JSON.parse(readFileSync(join(scan, 'experiment_finish.json'), 'utf8'));
      assert.equal(finish.outcome, 'cancelled');
      assert.match(finish.error, /the session (is quitting|received SIGTERM)/);
      assert.equal(finish.devices.shutter.state.value, 'closed');
      assert.match(readFileSync(join(scan, 'experiment.log'), 'utf8'), /run 0 ended: cancelled/);
      const partial = readdirSync(scan, { recursive: true }).filter((f) => String(f).endsWith('.partial'));
      assert.deepEqual(partial, [], 'no partial files');
    }

    it('Ctrl-D while a run goes on in the background cancels it cleanly before quitting', async () => {
      const { s, scan } = await demoWithBackgroundRun();
      assert.ok(!existsSync(join(scan, 'experiment_finish.json')), 'still running');
      s.tmux.keys('C-d');
      const screen = await s.tmux.waitFor('[exited 0]', 15_000);
      assert.match(
        screen,
        /Cancelling what is still running before leaving \(experiment\.run\(\).*\)…\nEverything is stopped\./,
      );
      assertCancelledCleanly(scan);
    });

    it('SIGTERM of the session cancels a running experiment cleanly, then exits 143', async () => {
      const { s, scan } = await demoWithBackgroundRun();
      const pid = Number(readFileSync(join(home, 'concert', '.demo.lock'), 'utf8').trim());
      process.kill(pid, 'SIGTERM');
      await s.tmux.waitFor('[exited 143]', 15_000);
      assertCancelledCleanly(scan);
      assert.ok(!existsSync(join(home, 'concert', '.demo.lock')), 'the lock is released');
    });

    it('Ctrl-C of `await rp` (a run started earlier) says the run goes on; the bar shows paused', async () => {
      const { s } = await demoWithBackgroundRun();
      // pause() resolves once the hardware is safe (with the checkpoint): the prompt says to await it.
      assert.match(await quiet(s, 'rp.pause()'), /a Promise \(still pending\): add `await`/);
      assert.equal(await quiet(s, 'await experiment.getState()'), "'paused'");
      const before = s.prompts();
      s.tmux.line('await rp');
      await sleep(500);
      s.tmux.keys('C-c');
      await s.waitForPrompts(before + 1, 5000);
      const screen = s.tmux.screen();
      assert.match(
        screen,
        /Interrupted \(Ctrl-C\): nothing this command started is still running\nStill running from an earlier command: experiment\.run\(\) \(Ctrl-C leaves it running; abort\(\) stops everything\)/,
      );
      assert.match(screen, /^experiment scan_0000 \[#*\.*\] \d+\/220 {2}paused$/m);
      assert.equal(await quiet(s, 'await experiment.getState()'), "'paused'");
      await s.run('rp.resume()');
      assert.equal(await quiet(s, 'await experiment.getState()'), "'running'");
      assert.match(await quiet(s, 'abort()'), /^Aborted \d+ operations?: experiment\.run\(\)/);
    });
  });
});
