/**
 * Ctrl-C trials (issue 10's proven figures): the real `concert start`, driven through tmux the
 * way a person types, is interrupted with Ctrl-C at a random moment of
 *
 * - `move`: two dummy motors moving (`tomoMotor`, `flatMotor` of the demo session);
 * - `run`: the demo's continuous tomography writing TIFF files (`experiment.run()`);
 * - `remote-run`: the remote-demo's run (camera server → writer, live view and reco servers);
 * - `grabSend`: a remote camera's `grabSend` from the prompt, its frames drained by a receiver.
 *
 * After each trial the script checks what a scientist relies on: the motors stopped (state
 * `standby`, position no longer changing, continuous velocity 0), the shutter closed, the camera
 * out of recording, the experiment `cancelled`, no `.partial` file left and every TIFF file whole
 * (its header and the last IFD inside the file), the remote camera server able to send again;
 * and that the Ctrl-C did interrupt something (a motor had moved, a run had not finished). It
 * prints, per scenario, the median and the maximum time from the Ctrl-C key to the next prompt,
 * and how many trials failed a check, as bench rows. There is no reference to compare with (the
 * goals are values); the time is polled every 10 ms, so it is exact to about 15 ms.
 *
 *   npx tsx bench/ctrl-c.ts [trials=100] [scenario …]
 *
 * Needs tmux (scripts/pretest.sh installs it); without it the rows say so.
 * @module
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { errorMessage } from '../core/errors.js';
import { DrivenSession, have, removeTemp, tempHome } from '../test/unit/session/support.js';
import { median, printResult, type BenchResult } from './result.js';

const SCENARIOS = ['move', 'run', 'remote-run', 'grabSend'] as const;
type Scenario = (typeof SCENARIOS)[number];

const trials = Number(process.argv[2] ?? 100);
const chosen = process.argv.slice(3);
for (const name of chosen)
  if (!(SCENARIOS as readonly string[]).includes(name))
    throw new Error(`bench/ctrl-c.ts: unknown scenario '${name}' (allowed: ${SCENARIOS.join(', ')})`);
if (!Number.isSafeInteger(trials) || trials < 1)
  throw new Error(`bench/ctrl-c.ts: trials must be a whole number ≥ 1, got ${process.argv[2]}`);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const between = (lo: number, hi: number) => lo + Math.random() * (hi - lo);

/** What one scenario types and checks. */
interface Plan {
  session: 'demo' | 'remote-demo';
  /** Lines typed once after the prompt appears (helpers of the check). */
  setup: string[];
  /** The command of trial `i` that Ctrl-C interrupts. */
  command(i: number): string;
  /** How long after Enter the Ctrl-C comes, ms. */
  delay(): number;
  /** The line that prints `CHK {json}`; `check` judges the JSON (problems, empty if fine). */
  probe: string;
  check(state: Record<string, unknown>, root: string | undefined): Promise<string[]>;
}

/** Problems of the TIFF files under `dir`: `.partial` files left, files cut short. */
function tiffProblems(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const problems: string[] = [];
  for (const entry of readdirSync(dir, { recursive: true })) {
    const path = join(dir, String(entry));
    if (path.endsWith('.partial')) problems.push(`${path} left incomplete`);
    else if (/\.tiff?$/.test(path) && statSync(path).isFile()) {
      const bytes = readFileSync(path);
      const le = bytes.toString('latin1', 0, 2) === 'II';
      const ifd = bytes.length >= 8 ? (le ? bytes.readUInt32LE(4) : bytes.readUInt32BE(4)) : 0;
      if (bytes.length < 8 || (bytes.toString('latin1', 0, 2) !== 'MM' && !le) || ifd < 8 || ifd >= bytes.length)
        problems.push(`${path} is not a whole TIFF file (${bytes.length} bytes)`);
    }
  }
  return problems;
}

/** Waits up to `ms` for `problems()` to be empty (servers finish their files just after the prompt). */
async function settled(problems: () => string[], ms: number): Promise<string[]> {
  const end = performance.now() + ms;
  for (;;) {
    const found = problems();
    if (found.length === 0 || performance.now() > end) return found;
    await sleep(100);
  }
}

const expect = (problems: string[], what: string, got: unknown, want: unknown) => {
  if (got !== want) problems.push(`${what} is ${JSON.stringify(got)}, expected ${JSON.stringify(want)}`);
};

const PLANS: Record<Scenario, Plan> = {
  move: {
    session: 'demo',
    setup: [
      'const pos = async () => [(await tomoMotor.getPosition()).toNumber("deg"), (await flatMotor.getPosition()).toNumber("mm")]',
      'let before = await pos()',
    ],
    // far targets both ways, so the motors stay near 0 over the trials
    command: (i) =>
      `before = await pos(); await Promise.all([tomoMotor.move(q("${i % 2 ? -3600 : 3600} deg")), ` +
      `flatMotor.move(q("${i % 2 ? -1000 : 1000} mm"))])`,
    delay: () => between(150, 800),
    probe:
      'const a = await pos(); await new Promise((r) => setTimeout(r, 150)); const b = await pos(); ' +
      'console.log("CHK " + JSON.stringify({ tomo: await tomoMotor.getState(), flat: await flatMotor.getState(), before, a, b }))',
    async check(s) {
      const problems: string[] = [];
      expect(problems, 'tomoMotor state', s.tomo, 'standby');
      expect(problems, 'flatMotor state', s.flat, 'standby');
      const [before, a, b] = [s.before, s.a, s.b] as number[][];
      if (a![0] === before![0] || a![1] === before![1]) problems.push(`a motor had not moved: ${JSON.stringify(s)}`);
      if (a![0] !== b![0] || a![1] !== b![1])
        problems.push(`a motor still moves: ${JSON.stringify(a)} → ${JSON.stringify(b)}`);
      return problems;
    },
  },
  run: {
    session: 'demo',
    setup: ['console.log("ROOT " + walker.root)'],
    command: () => 'await experiment.run()',
    delay: () => between(300, 3000),
    probe:
      'console.log("CHK " + JSON.stringify({ experiment: await experiment.state.get(), shutter: await shutter.getState(), ' +
      'rotation: await continuousTomoMotor.getState(), velocity: (await continuousTomoMotor.velocity.get()).toNumber("deg/s"), ' +
      'flat: await flatMotor.getState(), camera: await camera.state.get() }))',
    check: (s, root) => checkRun(s, root, 2000),
  },
  'remote-run': {
    session: 'remote-demo',
    setup: ['await experiment.numProjections.set(300)', 'console.log("ROOT " + root)'],
    command: () => 'await experiment.run()',
    delay: () => between(300, 2000),
    probe:
      'console.log("CHK " + JSON.stringify({ experiment: await experiment.state.get(), shutter: await shutter.getState(), ' +
      'rotation: await tomoMotor.getState(), velocity: (await tomoMotor.velocity.get()).toNumber("deg/s"), ' +
      'flat: await flatMotor.getState(), camera: await camera.state.get() }))',
    check: (s, root) => checkRun(s, root, 5000),
  },
  grabSend: {
    session: 'remote-demo',
    setup: [
      // frames go to a receiver of our own that drains them (not to the addons' servers)
      'const { ZmqReceiver, freePort: port, tcpEndpoint: ep } = await import("concert/transport/zmq"); const drainAt = ep(await port()); ' +
        'await camera.unregisterAll(); await camera.registerEndpoint(drainAt, { mode: "push" }); ' +
        'const drain = await ZmqReceiver.create({ mode: "pull", connect: drainAt }); let drained = 0; ' +
        '(async () => { for (;;) { for await (const _ of drain.stream()) drained++; } })().catch(() => undefined)',
    ],
    command: () => 'await camera.recording(() => camera.grabSend(1_000_000))',
    delay: () => between(200, 1000),
    probe:
      'const seen = drained; const again = await camera.recording(() => camera.grabSend(3)); ' +
      'console.log("CHK " + JSON.stringify({ camera: await camera.state.get(), seen, again }))',
    async check(s) {
      const problems: string[] = [];
      expect(problems, 'camera state', s.camera, 'standby');
      expect(problems, 'the next grabSend(3)', s.again, 3);
      if (!((s.seen as number) > 0)) problems.push('no frame had been sent before Ctrl-C');
      return problems;
    },
  },
};

async function checkRun(s: Record<string, unknown>, root: string | undefined, settleMs: number): Promise<string[]> {
  const problems: string[] = [];
  expect(problems, 'experiment state', s.experiment, 'cancelled');
  expect(problems, 'shutter state', s.shutter, 'closed');
  expect(problems, 'rotation motor state', s.rotation, 'standby');
  expect(problems, 'rotation velocity', s.velocity, 0);
  expect(problems, 'flat motor state', s.flat, 'standby');
  expect(problems, 'camera state', s.camera, 'standby');
  if (root === undefined) problems.push('the session did not say where it writes');
  else problems.push(...(await settled(() => tiffProblems(root), settleMs)));
  return problems;
}

/** The text after the last occurrence of `marker`, or undefined once the prompt is back after it. */
function promptBackAfter(session: DrivenSession, marker: string): string | undefined {
  const screen = session.tmux.screen();
  const i = screen.lastIndexOf(marker);
  if (i < 0) return undefined;
  const lines = screen.slice(i + marker.length).split('\n');
  const prompt = session.prompt.trimEnd();
  if (lines.length < 2 || lines.at(-1)!.trimEnd() !== prompt) return undefined;
  return lines.slice(1, -1).join('\n');
}

async function waitPrompt(session: DrivenSession, marker: string, timeoutMs: number): Promise<string> {
  const end = performance.now() + timeoutMs;
  for (;;) {
    const out = promptBackAfter(session, marker);
    if (out !== undefined) return out;
    if (performance.now() > end) throw new Error(`no prompt within ${timeoutMs} ms; screen:\n${session.tmux.screen()}`);
    await sleep(10);
  }
}

let tagCount = 0;
/** Types `line` with a unique tag and waits for the prompt; returns what it printed. */
async function type(session: DrivenSession, line: string, timeoutMs = 30_000): Promise<string> {
  const tag = `/*@${++tagCount}*/`;
  session.tmux.line(`${line} ${tag}`);
  return waitPrompt(session, tag, timeoutMs);
}

interface Outcome {
  times: number[];
  failures: string[];
}

/**
 * Starts `concert start <name>` in tmux and waits for its prompt; tries five times, because the
 * remote demo's servers may miss their start-up deadline on a loaded machine.
 */
async function start(home: string, name: string): Promise<DrivenSession> {
  for (let attempt = 1; ; attempt++) {
    const session = new DrivenSession(home, name);
    try {
      await session.ready(120_000);
      return session;
    } catch (error) {
      session.kill();
      if (attempt === 5) throw error;
      console.log(`${name} did not start (attempt ${attempt}): ${errorMessage(error).split('\n')[1] ?? ''}`);
    }
  }
}

async function scenario(name: Scenario): Promise<Outcome> {
  const plan = PLANS[name];
  const home = tempHome();
  const session = await start(home, plan.session);
  const outcome: Outcome = { times: [], failures: [] };
  try {
    let root: string | undefined;
    for (const line of plan.setup) {
      const out = await type(session, line);
      root = /^ROOT (.+)$/m.exec(out)?.[1]?.trim() ?? root;
    }
    for (let i = 0; i < trials; i++) {
      if (i % 10 === 0) execFileSync('tmux', ['-L', session.tmux.socket, 'clear-history', '-t', session.tmux.target]);
      const tag = `/*@${++tagCount}*/`;
      session.tmux.line(`${plan.command(i)} ${tag}`);
      await sleep(plan.delay());
      const t0 = performance.now();
      session.tmux.keys('C-c');
      let printed: string;
      try {
        printed = await waitPrompt(session, tag, 20_000);
      } catch (error) {
        outcome.failures.push(`trial ${i}: ${errorMessage(error).split('\n')[0]}`);
        session.tmux.keys('C-c');
        session.tmux.keys('C-c');
        await waitPrompt(session, tag, 20_000);
        continue;
      }
      const ms = performance.now() - t0;
      outcome.times.push(ms);
      if (ms > 2000)
        console.log(
          `${name} trial ${i}: ${ms.toFixed(0)} ms to the prompt after ${printed.trim().replace(/\n/g, ' | ')}`,
        );
      const problems: string[] = [];
      if (!/Interrupted \(Ctrl-C\)/.test(printed)) problems.push(`no interruption was reported: ${printed.trim()}`);
      // in a function of its own: its names are not the session's
      const out = await type(session, `await (async () => { ${plan.probe} })()`);
      const json = /^CHK (.+)$/m.exec(out)?.[1];
      if (json === undefined) problems.push(`the check printed: ${out.trim()}`);
      else problems.push(...(await plan.check(JSON.parse(json) as Record<string, unknown>, root)));
      if (problems.length > 0) outcome.failures.push(`trial ${i}: ${problems.join('; ')}`);
      if ((i + 1) % 10 === 0 || i + 1 === trials)
        console.log(
          `${name}: ${i + 1}/${trials} trials, median ${median(outcome.times).toFixed(0)} ms, ` +
            `max ${Math.max(...outcome.times).toFixed(0)} ms, ${outcome.failures.length} failed`,
        );
    }
  } finally {
    session.kill();
    removeTemp(home);
  }
  return outcome;
}

const rows = (name: Scenario, outcome: Outcome | string): BenchResult[] => {
  const missing = typeof outcome === 'string' ? outcome : undefined;
  const o = typeof outcome === 'string' ? { times: [NaN], failures: [] } : outcome;
  const base = { unit: 'ms', ...(missing ? { missing } : {}) };
  return [
    {
      name: `Ctrl-C during ${name}: median time to the prompt (${trials} trials)`,
      value: median(o.times),
      ...base,
      goal: { of: 'value', atMost: 1000 },
    },
    {
      name: `Ctrl-C during ${name}: max time to the prompt (${trials} trials)`,
      value: Math.max(...o.times),
      ...base,
      goal: { of: 'value', atMost: 2000 },
    },
    {
      name: `Ctrl-C during ${name}: trials failing a check (hardware safe, files whole)`,
      value: missing ? NaN : o.failures.length,
      unit: 'trials',
      ...(missing ? { missing } : {}),
      goal: { of: 'value', atMost: 0 },
    },
  ];
};

for (const name of chosen.length > 0 ? (chosen as Scenario[]) : SCENARIOS) {
  if (!have('tmux')) {
    for (const row of rows(name, 'tmux is not installed (scripts/pretest.sh installs it)')) printResult(row);
    continue;
  }
  const outcome = await scenario(name);
  for (const failure of outcome.failures.slice(0, 20)) console.log(`  ${name} ${failure}`);
  for (const row of rows(name, outcome)) printResult(row);
}
