/**
 * The camera colony on loopback: 8 camera server processes (`concert serve camera`, dummy
 * 640×480 uint16) and one conductor.
 *
 * - start skew with 8 cameras, median and max over 10 acquisitions (goal ≤ 5 ms each);
 * - control round-trip time (`clock` request) against raw zeromq.js REQ/REP in the same run;
 * - 8 × 640×480 at 90 fps for 20 s recorded as TIFF datasets: frames dropped (goal 0) and the CPU
 *   each camera server used (percent of one core, from /proc).
 *
 * Usage: `npx tsx bench/conductor.ts [--seconds 20]`.
 * @module
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Reply, Request } from 'zeromq';
import { spawnServer, type ServerProcess } from '../addons/remote/spawn.js';
import { Conductor } from '../conductor/index.js';
import { ControlClient, freePort, tcpEndpoint } from '../transport/zmq/index.js';
import { printResult } from './result.js';

const CAMERAS = 8;
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

async function rawRoundTripMs(rounds: number): Promise<number> {
  const endpoint = tcpEndpoint(await freePort());
  const reply = new Reply();
  await reply.bind(endpoint);
  const serving = (async () => {
    for await (const [msg] of reply) await reply.send(msg!);
  })();
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
  reply.close();
  await serving.catch(() => undefined);
  return median(times);
}

async function main(): Promise<void> {
  const base = mkdtempSync(join(tmpdir(), 'concert-bench-conductor-'));
  const servers: ServerProcess[] = [];
  let conductor: Conductor | undefined;
  try {
    servers.push(
      ...(await Promise.all(
        Array.from({ length: CAMERAS }, () =>
          spawnServer('camera', { width: 640, height: 480, frameRate: '90', simulate: false, root: base }, 120_000),
        ),
      )),
    );
    const config = {
      general: { dataPath: 'data', maxAcquisitionTime: SECONDS + 60 },
      log: { file: join(base, 'conductor.log') },
      cameras: Object.fromEntries(
        servers.map((s, i) => [`cam${i}`, { endpoint: s.endpoint, frameRate: 90, size: [640, 480] }]),
      ),
    };

    // control round trip: the camera server's `clock` against raw REQ/REP in this process
    const client = await ControlClient.create({ connect: servers[0]!.endpoint, timeoutMs: 5000 });
    const rtts: number[] = [];
    for (let i = 0; i < 200; i++) {
      const t0 = performance.now();
      await client.request('clock');
      rtts.push(performance.now() - t0);
    }
    client.close();
    const raw = await rawRoundTripMs(200);
    printResult({
      name: 'conductor: control round trip (clock), median',
      value: median(rtts),
      unit: 'ms',
      baseline: raw,
      baselineName: 'raw zeromq REQ/REP, same process',
    });

    // start skew over 10 short acquisitions
    conductor = await Conductor.create({ config });
    const skews: number[] = [];
    for (let i = 0; i < 10; i++) {
      const start = await conductor.startAcquisition({ name: `skew${i}` });
      skews.push(start.skewMs);
      await conductor.stopAcquisition();
    }
    printResult({
      name: `conductor: start skew, ${CAMERAS} cameras, median of 10`,
      value: median(skews),
      unit: 'ms',
      goal: { of: 'value', atMost: 5 },
    });
    printResult({
      name: `conductor: start skew, ${CAMERAS} cameras, max of 10`,
      value: Math.max(...skews),
      unit: 'ms',
      goal: { of: 'value', atMost: 5 },
    });

    // 8 × 640×480 at 90 fps for SECONDS, recorded as TIFF datasets
    const cpu0 = servers.map((s) => cpuSeconds(s.child.pid!));
    const t0 = performance.now();
    const { summary } = await conductor.record({ name: 'sustained', durationMs: SECONDS * 1000 });
    const wall = (performance.now() - t0) / 1000;
    const cpu = servers.map((s, i) => (cpuSeconds(s.child.pid!) - cpu0[i]!) / wall);
    const cameras = Object.values(summary.cameras);
    const drops = cameras.reduce((n, c) => n + (c.drops ?? 0), 0);
    const frames = cameras.reduce((n, c) => n + (c.frames ?? 0), 0);
    process.stderr.write(
      `sustained: ${frames} frames stored, ${drops} dropped, complete ${summary.complete}, ` +
        `CPU per server ${cpu.map((c) => `${(c * 100).toFixed(0)} %`).join(', ')}\n`,
    );
    printResult({
      name: `conductor: ${CAMERAS} × 640×480 at 90 fps for ${SECONDS} s, frames dropped`,
      value: drops,
      unit: 'frames',
      goal: { of: 'value', atMost: 0 },
    });
    printResult({
      name: `conductor: ${CAMERAS} × 640×480 at 90 fps, CPU per camera server (mean)`,
      value: (cpu.reduce((a, b) => a + b, 0) / cpu.length) * 100,
      unit: '% of a core',
    });
  } finally {
    await conductor?.disconnect().catch(() => undefined);
    await Promise.all(servers.map((s) => s.stop()));
    rmSync(base, { recursive: true, force: true });
  }
}

await main();
