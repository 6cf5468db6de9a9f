/**
 * The camera colony on loopback: 8 camera server processes (`concert serve camera`, dummy
 * 640×480 uint16 at 90 fps, a 16-frame camera buffer as the served dummy has) and one conductor.
 *
 * - control round-trip time (`clock`) against raw zeromq.js REQ/REP with the REP in another
 *   process, measured in the same run;
 * - start skew with 8 cameras, median and max over 10 acquisitions (goal ≤ 5 ms each), measured
 *   from the cameras' own first-frame timestamps (the report must say so), against 8 bare
 *   processes woken at one instant by the same wait, in the same run (how well the host wakes 8
 *   processes at once: the floor of any software start); decomposed per camera start into how late
 *   the server woke and the time from waking to the first exposure;
 * - 8 × 640×480 at 90 fps for 20 s recorded as TIFF datasets: frames stored against the frames
 *   the cameras were due to take, frames dropped (goal 0), whether every camera is complete, and
 *   the CPU each camera server used (percent of one core, from /proc), with the load average.
 *
 * Usage: `npx tsx bench/conductor.ts [--seconds 20] [--keep] [--skew-only]` (`--keep`: keep the
 * recordings and the log; `--skew-only`: the round trip and the start skew, no sustained recording).
 * @module
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Request } from 'zeromq';
import { spawnServer, type ServerProcess } from '../addons/remote/spawn.js';
import { Conductor } from '../conductor/index.js';
import { ControlClient, freePort, tcpEndpoint } from '../transport/zmq/index.js';
import { preciseNow } from '../walkers/formats/index.js';
import { printResult } from './result.js';

const CAMERAS = 8;
const RATE = 90;
const argSeconds = process.argv.indexOf('--seconds');
const SECONDS = argSeconds > 0 ? Number(process.argv[argSeconds + 1]) : 20;

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** CPU seconds (user + system) of a process so far. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ 100)
}

const load = () => loadavg()[0]!.toFixed(2);

/** Median round trip of raw REQ/REP with the REP in another node process (as a camera server is). */
async function rawRoundTripMs(rounds: number): Promise<number> {
  const endpoint = tcpEndpoint(await freePort());
  const echo = spawn(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      `import { Reply } from 'zeromq'; const r = new Reply(); await r.bind(${JSON.stringify(endpoint)});` +
        `console.log('ready'); for await (const [m] of r) await r.send(m);`,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'], cwd: new URL('..', import.meta.url) },
  );
  try {
    await new Promise<void>((resolve, reject) => {
      echo.stdout!.once('data', () => resolve());
      echo.once('exit', (code) => reject(new Error(`the raw REP process exited with ${code}`)));
    });
    const request = new Request();
    request.connect(endpoint);
    const times: number[] = [];
    for (let i = 0; i < rounds; i++) {
      const t0 = performance.now();
      await request.send(JSON.stringify({ method: 'clock', id: i }));
      await request.receive();
      times.push(performance.now() - t0);
    }
    request.close();
    return median(times.slice(10));
  } finally {
    echo.kill('SIGKILL');
  }
}

/**
 * `n` bare processes (bench/start-waker.ts) that each wait for one instant as a camera server
 * does; `round()` wakes them all at one instant 60 ms ahead and answers the skew (latest minus
 * earliest wake, ms).
 */
async function bareWakers(n: number): Promise<{ round(): Promise<number>; stop(): void }> {
  const script = new URL('start-waker.ts', import.meta.url).pathname;
  const children: ChildProcess[] = [];
  const stop = () => children.forEach((c) => c.kill('SIGKILL'));
  try {
    const lines = await Promise.all(
      Array.from({ length: n }, async () => {
        const child = spawn(process.execPath, ['--import', 'tsx', script], { stdio: ['pipe', 'pipe', 'inherit'] });
        children.push(child);
        const it = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
        if ((await it.next()).value !== 'ready') throw new Error('a start waker did not start');
        return it;
      }),
    );
    return {
      stop,
      async round() {
        const at = preciseNow() + 60;
        for (const c of children) c.stdin!.write(`${at}\n`);
        const late = await Promise.all(lines.map(async (it) => Number((await it.next()).value)));
        return Math.max(...late) - Math.min(...late);
      },
    };
  } catch (error) {
    stop();
    throw error;
  }
}

async function main(): Promise<void> {
  const base = mkdtempSync(join(tmpdir(), 'concert-bench-conductor-'));
  const servers: ServerProcess[] = [];
  let conductor: Conductor | undefined;
  try {
    servers.push(
      ...(await Promise.all(
        Array.from({ length: CAMERAS }, () =>
          spawnServer('camera', { width: 640, height: 480, frameRate: RATE, simulate: false, root: base }, 120_000),
        ),
      )),
    );
    const config = {
      general: { dataPath: 'data', maxAcquisitionTime: SECONDS + 60 },
      log: { file: join(base, 'conductor.log') },
      cameras: Object.fromEntries(
        servers.map((s, i) => [`cam${i}`, { endpoint: s.endpoint, frameRate: RATE, size: [640, 480] }]),
      ),
    };

    // control round trip: the camera server's `clock` against raw REQ/REP to another process
    const client = await ControlClient.create({ connect: servers[0]!.endpoint, timeoutMs: 5000 });
    const rtts: number[] = [];
    for (let i = 0; i < 210; i++) {
      const t0 = performance.now();
      await client.request('clock');
      rtts.push(performance.now() - t0);
    }
    client.close();
    const raw = await rawRoundTripMs(210);
    process.stderr.write(`control round trip: load ${load()}\n`);
    printResult({
      name: 'conductor: control round trip (clock), median',
      value: median(rtts.slice(10)),
      unit: 'ms',
      baseline: raw,
      baselineName: 'raw zeromq REQ/REP to another process',
    });

    // start skew over 10 short acquisitions, from the cameras' first-frame timestamps; after each,
    // 8 bare processes woken at one instant the same way (the floor the host gives, same run)
    conductor = await Conductor.create({ config });
    const wakers = await bareWakers(CAMERAS);
    const skews: number[] = [];
    const bare: number[] = [];
    const oneClock: number[] = [];
    const wholeMs: number[] = [];
    const woke: number[] = [];
    const toFirst: number[] = [];
    const rounds: string[] = [];
    try {
      for (let i = 0; i < 10; i++) {
        const start = await conductor.startAcquisition({ name: `skew${i}` });
        if (start.skewFrom !== 'firstFrame')
          throw new Error(`skew${i}: measured from ${start.skewFrom}, not the first frames`);
        skews.push(start.skewMs);
        const cams = Object.values(start.cameras);
        const spread = (v: number[]) => Math.max(...v) - Math.min(...v);
        // on loopback every server shares the conductor's clock: the skew without clock offsets
        oneClock.push(spread(cams.map((c) => c.firstFrameAt!)));
        // what whole-millisecond stamps would have said
        wholeMs.push(spread(cams.map((c) => Math.round(c.firstFrameAt!) - (c.askedAt - cams[0]!.askedAt))));
        for (const c of cams) {
          woke.push(c.wokeAt! - c.askedAt);
          toFirst.push(c.firstFrameAt! - c.wokeAt!);
        }
        // per camera, in the order of the first frames: how late it woke / wake to first exposure
        rounds.push(
          Object.entries(start.cameras)
            .sort(([, a], [, b]) => a.offsetMs - b.offsetMs)
            .map(([n, c]) => `${n} ${(c.wokeAt! - c.askedAt).toFixed(2)}/${(c.firstFrameAt! - c.wokeAt!).toFixed(2)}`)
            .join(', '),
        );
        await conductor.stopAcquisition();
        bare.push(await wakers.round());
      }
    } finally {
      wakers.stop();
    }
    const ms = (v: number[]) => v.map((x) => x.toFixed(2)).join(', ');
    const worst = skews.indexOf(Math.max(...skews));
    process.stderr.write(
      `start skew (ms): ${ms(skews)}; load ${load()}\n` +
        `  on the one host clock (no offsets): ${ms(oneClock)}\n` +
        `  from whole-ms stamps: ${ms(wholeMs)}\n` +
        `  ${CAMERAS} bare processes woken at one instant: ${ms(bare)}\n` +
        `  per camera start (${woke.length}): server woke after the instant median ${median(woke).toFixed(2)}, ` +
        `max ${Math.max(...woke).toFixed(2)} ms; wake to first exposure median ${median(toFirst).toFixed(2)}, ` +
        `max ${Math.max(...toFirst).toFixed(2)} ms\n` +
        `  the worst start (skew${worst}, ${skews[worst]!.toFixed(2)} ms), per camera woke late / wake to first exposure (ms): ` +
        `${rounds[worst]}\n` +
        (process.env.BENCH_ALL_ROUNDS
          ? rounds.map((r, i) => `  skew${i} ${skews[i]!.toFixed(2)}: ${r}\n`).join('')
          : ''),
    );
    for (const [what, value, reference] of [
      ['median', median(skews), median(bare)],
      ['max', Math.max(...skews), Math.max(...bare)],
    ] as const)
      printResult({
        name: `conductor: start skew (first frames), ${CAMERAS} cameras, ${what} of 10`,
        value,
        unit: 'ms',
        baseline: reference,
        baselineName: `${CAMERAS} bare processes woken at one instant by the same wait`,
        goal: { of: 'value', atMost: 5 },
      });
    if (process.argv.includes('--skew-only')) return;

    // 8 × 640×480 at 90 fps for SECONDS, recorded as TIFF datasets
    const cpu0 = servers.map((s) => cpuSeconds(s.child.pid!));
    const t0 = performance.now();
    const { summary } = await conductor.record({ name: 'sustained', durationMs: SECONDS * 1000 });
    const wall = (performance.now() - t0) / 1000;
    const cpu = servers.map((s, i) => (cpuSeconds(s.child.pid!) - cpu0[i]!) / wall);
    const cameras = Object.values(summary.cameras);
    const drops = cameras.reduce((n, c) => n + (c.drops ?? 0), 0);
    const frames = cameras.reduce((n, c) => n + (c.frames ?? 0), 0);
    // the frames each camera was due to take while it recorded
    const due = cameras.reduce((n, c) => n + Math.floor((c.elapsed ?? 0) * RATE), 0);
    const bytes = cameras.reduce((n, c) => n + (c.bytes ?? 0), 0);
    process.stderr.write(
      `sustained ${wall.toFixed(1)} s: ${frames} frames stored of ${due} due (${CAMERAS} × ${RATE} fps × ` +
        `${(cameras[0]?.elapsed ?? 0).toFixed(1)} s), ${drops} dropped, complete ${summary.complete}, ` +
        `${(bytes / wall / 1e6).toFixed(0)} MB/s to disk; CPU per server ${cpu.map((c) => `${(c * 100).toFixed(0)} %`).join(', ')}; ` +
        `load ${load()}\n`,
    );
    if (!(wall >= SECONDS)) throw new Error(`the sustained recording ended after ${wall.toFixed(1)} s of ${SECONDS} s`);
    printResult({
      name: `conductor: ${CAMERAS} × 640×480 at ${RATE} fps for ${SECONDS} s, frames stored / frames due`,
      value: frames,
      unit: 'frames',
      baseline: due,
      baselineName: 'frames the cameras were due to take',
      goal: { of: 'ratio', atLeast: 1 },
    });
    printResult({
      name: `conductor: ${CAMERAS} × 640×480 at ${RATE} fps for ${SECONDS} s, frames dropped`,
      value: drops,
      unit: 'frames',
      goal: { of: 'value', atMost: 0 },
    });
    printResult({
      name: `conductor: ${CAMERAS} × 640×480 at ${RATE} fps, CPU per camera server (mean)`,
      value: (cpu.reduce((a, b) => a + b, 0) / cpu.length) * 100,
      unit: '% of a core',
    });
    printResult({
      name: `conductor: ${CAMERAS} × 640×480 at ${RATE} fps, CPU per camera server (max)`,
      value: Math.max(...cpu) * 100,
      unit: '% of a core',
    });
  } finally {
    await conductor?.disconnect().catch(() => undefined);
    await Promise.all(servers.map((s) => s.stop()));
    if (process.argv.includes('--keep')) process.stderr.write(`kept ${base}\n`);
    else rmSync(base, { recursive: true, force: true });
  }
}

await main();
