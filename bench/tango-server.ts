/**
 * Tango server benchmark: one PyTango client reads a scalar attribute from our device server
 * (tango/server, in this process) and from TangoTest (C++) serving the same attribute, taking
 * turns in the same run; the row is our server's reads/s against TangoTest's (trimmed geometric
 * mean of the paired turns). The server's CPU time per read is printed too.
 *
 * Run: `npx tsx bench/tango-server.ts [rounds] [seconds-per-turn]`
 * @module
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { DeviceServer, defineDevice } from '../tango/server/index.js';
import { pairedMeans, printResult } from './result.js';
import { freePort, startTangoTest, stopProcess } from './tango-servers.js';

const PYTHON = '/usr/bin/python3';
const ROUNDS = Number(process.argv[2] ?? 9);
const SECONDS = Number(process.argv[3] ?? 0.4);
const ROW = 'Tango server: scalar reads served to PyTango, sequential';
const ROW_16 = 'Tango server: scalar reads served to PyTango, 16 threads';

const PY = String.raw`
import json, sys, time, tango
from concurrent.futures import ThreadPoolExecutor
proxies = {'ours': tango.DeviceProxy(sys.argv[1]), 'tangotest': tango.DeviceProxy(sys.argv[2])}
for d in proxies.values():
    for _ in range(300): d.read_attribute('double_scalar')
pool = ThreadPoolExecutor(16)
def worker(d):
    for _ in range(25): d.read_attribute('double_scalar')
    return 25
print(json.dumps({'ready': True}), flush=True)
for line in sys.stdin:
    who, kind, secs = line.split()
    d = proxies[who]
    t0 = time.perf_counter(); end = t0 + float(secs); n = 0
    while time.perf_counter() < end:
        if kind == 'sequential':
            d.read_attribute('double_scalar'); n += 1
        else:
            n += sum(pool.map(worker, [d] * 16))
    print(json.dumps({'rate': n / (time.perf_counter() - t0)}), flush=True)
`;

/** CPU time (µs) a process used so far. */
function cpuOf(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(f[11]) + Number(f[12])) * 10_000; // clock ticks of 10 ms
}

async function main(): Promise<void> {
  const missing = !existsSync(PYTHON) ? `${PYTHON} is missing` : undefined;
  const tangoTest = await startTangoTest(await freePort());
  if (missing || typeof tangoTest === 'string') {
    const why = missing ?? (tangoTest as string);
    console.log(why);
    printResult({ name: ROW, value: NaN, unit: 'reads/s', missing: why, goal: { of: 'ratio', atLeast: 0.8 } });
    if (typeof tangoTest !== 'string') await tangoTest.stop();
    return;
  }
  let value = 0;
  const server = await DeviceServer.create({
    server: 'bench',
    devices: [
      {
        name: 'bench/scalar/1',
        definition: defineDevice({
          className: 'BenchScalar',
          attributes: {
            double_scalar: { type: 'DevDouble', read: () => value, write: (v: number) => void (value = v) },
          },
        }),
      },
    ],
  });
  const py = spawn(PYTHON, ['-c', PY, server.url('bench/scalar/1'), tangoTest.url], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  py.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const lines = createInterface({ input: py.stdout! })[Symbol.asyncIterator]();
  const next = async (): Promise<string> => {
    const r = await lines.next();
    if (r.done) throw new Error(`PyTango client exited: ${stderr.trim().split('\n').pop()}`);
    return r.value;
  };
  try {
    await next();
    const turns: Record<string, number[]> = {};
    const cpu: Record<string, number[]> = {};
    const turn = async (who: 'ours' | 'tangotest', kind: 'sequential' | 'concurrent'): Promise<void> => {
      const pid = who === 'ours' ? process.pid : tangoTest.pid;
      const c0 = who === 'ours' ? process.cpuUsage() : { user: cpuOf(pid), system: 0 };
      py.stdin!.write(`${who} ${kind} ${SECONDS}\n`);
      const { rate } = JSON.parse(await next()) as { rate: number };
      const used = who === 'ours' ? ((c) => c.user + c.system)(process.cpuUsage(c0)) : cpuOf(pid) - c0.user;
      (turns[`${who} ${kind}`] ??= []).push(rate);
      (cpu[`${who} ${kind}`] ??= []).push(used / (rate * SECONDS));
    };
    for (let round = 0; round < ROUNDS; round++) {
      const order: ['ours' | 'tangotest', 'sequential' | 'concurrent'][] = [
        ['ours', 'sequential'],
        ['tangotest', 'sequential'],
        ['ours', 'concurrent'],
        ['tangotest', 'concurrent'],
      ];
      if (round % 2) order.reverse();
      for (const [who, kind] of order) await turn(who, kind);
    }
    console.log(`Tango server, PyTango client, ${ROUNDS} rounds of ${SECONDS} s turns`);
    for (const key of Object.keys(turns).sort())
      console.log(
        `  ${key.padEnd(22)} ${turns[key]!.map((r) => r.toFixed(0)).join(' ')} reads/s, server CPU ≈ ${(
          cpu[key]!.reduce((a, b) => a + b, 0) / cpu[key]!.length
        ).toFixed(0)} µs/read`,
      );
    const seq = pairedMeans(turns['ours sequential']!, turns['tangotest sequential']!);
    const con = pairedMeans(turns['ours concurrent']!, turns['tangotest concurrent']!);
    printResult({
      name: ROW,
      value: seq.value,
      unit: 'reads/s',
      baseline: seq.baseline,
      baselineName: 'TangoTest (C++)',
      goal: { of: 'ratio', atLeast: 0.8 },
    });
    printResult({
      name: ROW_16,
      value: con.value,
      unit: 'reads/s',
      baseline: con.baseline,
      baselineName: 'TangoTest (C++)',
    });
  } finally {
    py.stdin!.end();
    await stopProcess(py);
    await server.stop();
    await tangoTest.stop();
  }
}

await main();
