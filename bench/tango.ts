/**
 * Tango client benchmark: starts TangoTest (no database) on a free loopback port and measures,
 * with this client and with PyTango on the same server in the same run, sequential and
 * concurrent scalar reads per second and image read throughput.
 *
 * The machine is shared and noisy, so the two clients take short turns: each round measures ours
 * and PyTango back to back (alternating which goes first), and each row carries the geometric
 * means over the rounds after dropping the rounds whose ours/PyTango ratio is the highest and the
 * lowest, so the ratio printed is the trimmed geometric mean of the paired ratios. CPU time per
 * read of each client is printed too (less sensitive to the load than the rates).
 *
 * Run: `npx tsx bench/tango.ts [rounds] [seconds-per-turn]`
 * @module
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { DeviceProxy } from '../tango/index.js';
import { median, pairedMeans, printResult, type BenchResult } from './result.js';
import { freePort, startTangoTest } from './tango-servers.js';

const PYTHON = '/usr/bin/python3';
const ROUNDS = Number(process.argv[2] ?? 9);
const SECONDS = Number(process.argv[3] ?? 0.3);
const CONCURRENCY = 16;
const WARM_UP_S = 1;
const SCALAR = 'double_scalar';
const IMAGE = 'double_image_ro';

/** What one turn measured: operations per second and client CPU µs per operation. */
interface Turn {
  rate: number;
  cpuUs: number;
}

type Kind = 'sequential' | 'concurrent' | 'image';

async function timed(seconds: number, body: () => Promise<number>): Promise<Turn> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  let n = 0;
  while (performance.now() < end) n += await body();
  const c = process.cpuUsage(c0);
  return { rate: n / ((performance.now() - t0) / 1000), cpuUs: (c.user + c.system) / n };
}

function ours(dev: DeviceProxy, kind: Kind, seconds = SECONDS): Promise<Turn> {
  switch (kind) {
    case 'sequential':
      return timed(seconds, () => dev.readAttribute(SCALAR).then(() => 1));
    case 'concurrent':
      return timed(seconds, async () => {
        let n = 0;
        const worker = async (): Promise<void> => {
          for (let i = 0; i < 50; i++) {
            await dev.readAttribute(SCALAR);
            n++;
          }
        };
        await Promise.all(Array.from({ length: CONCURRENCY }, worker));
        return n;
      });
    case 'image':
      return timed(seconds, () => dev.readAttribute(IMAGE).then(() => 1));
  }
}

/** PyTango, kept running between turns: reads `kind SECONDS` lines, answers one JSON line each. */
const PY = String.raw`
import json, sys, time, resource, tango
from concurrent.futures import ThreadPoolExecutor
url, conc = sys.argv[1], int(sys.argv[2])
d = tango.DeviceProxy(url)
for _ in range(200): d.read_attribute('${SCALAR}')
for _ in range(20): d.read_attribute('${IMAGE}')
pool = ThreadPoolExecutor(conc)
def worker(_):
    for _ in range(50): d.read_attribute('${SCALAR}')
    return 50
bodies = {
    'sequential': lambda: (d.read_attribute('${SCALAR}'), 1)[1],
    'concurrent': lambda: sum(pool.map(worker, range(conc))),
    'image': lambda: (d.read_attribute('${IMAGE}'), 1)[1],
}
print(json.dumps({'ready': True, 'imageBytes': d.read_attribute('${IMAGE}').value.nbytes}), flush=True)
for line in sys.stdin:
    kind, secs = line.split()
    body = bodies[kind]
    r0 = resource.getrusage(resource.RUSAGE_SELF)
    t0 = time.perf_counter(); end = t0 + float(secs); n = 0
    while time.perf_counter() < end: n += body()
    dt = time.perf_counter() - t0
    r1 = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (r1.ru_utime + r1.ru_stime - r0.ru_utime - r0.ru_stime) * 1e6 / n
    print(json.dumps({'rate': n / dt, 'cpuUs': cpu}), flush=True)
`;

/** A PyTango client process taking turns with ours. */
class PyTangoClient {
  readonly #proc: ChildProcess;
  readonly #lines: AsyncIterator<string>;

  private constructor(proc: ChildProcess) {
    this.#proc = proc;
    this.#lines = createInterface({ input: proc.stdout! })[Symbol.asyncIterator]();
  }

  static async start(url: string): Promise<{ client: PyTangoClient; imageBytes: number } | string> {
    if (!existsSync(PYTHON)) return `${PYTHON} is missing`;
    const proc = spawn(PYTHON, ['-c', PY, url, String(CONCURRENCY)], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    proc.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const client = new PyTangoClient(proc);
    const first = await client.#next();
    if (!first) {
      client.stop();
      return `PyTango did not start: ${stderr.trim().split('\n').pop() ?? 'no output'}`;
    }
    return { client, imageBytes: (JSON.parse(first) as { imageBytes: number }).imageBytes };
  }

  async #next(): Promise<string | undefined> {
    const r = await this.#lines.next();
    return r.done ? undefined : r.value;
  }

  async turn(kind: Kind): Promise<Turn> {
    this.#proc.stdin!.write(`${kind} ${SECONDS}\n`);
    const line = await this.#next();
    if (!line) throw new Error('PyTango client exited');
    return JSON.parse(line) as Turn;
  }

  stop(): void {
    this.#proc.stdin!.end();
    this.#proc.kill('SIGKILL');
  }
}

const medianOf = (turns: Turn[], key: keyof Turn): number => median(turns.map((t) => t[key]));

async function main(): Promise<void> {
  const server = await startTangoTest(await freePort());
  if (typeof server === 'string') {
    console.log(server);
    for (const name of ROW_NAMES) printResult({ name, value: NaN, unit: '', missing: server });
    return;
  }
  const url = server.url;
  const dev = await DeviceProxy.create(url);
  const py = await PyTangoClient.start(url);
  try {
    // Warm-up: under load the optimizing compiler needs a second or two to finish the hot path.
    for (const kind of ['sequential', 'concurrent', 'image'] as const) await ours(dev, kind, WARM_UP_S);
    if (typeof py !== 'string') for (const kind of ['sequential', 'image'] as const) await py.client.turn(kind);
    const imageBytes = ((await dev.readAttribute(IMAGE)).value as Float64Array).byteLength;
    const turns: Record<'ours' | 'py', Record<Kind, Turn[]>> = {
      ours: { sequential: [], concurrent: [], image: [] },
      py: { sequential: [], concurrent: [], image: [] },
    };
    const kinds = ['sequential', 'concurrent', 'image'] as const;
    for (let round = 0; round < ROUNDS; round++) {
      const steps = kinds.flatMap((kind) => [
        ['ours', kind],
        ['py', kind],
      ]) as ['ours' | 'py', Kind][];
      if (round % 2 === 1) steps.reverse();
      for (const [who, kind] of steps) {
        if (who === 'ours') turns.ours[kind].push(await ours(dev, kind));
        else if (typeof py !== 'string') turns.py[kind].push(await py.client.turn(kind));
      }
    }
    const missing = typeof py === 'string' ? py : undefined;
    const rates = (t: Turn[], scale = 1) => t.map((x) => x.rate * scale);
    const row = (
      name: string,
      unit: string,
      o: number[],
      p: number[],
      goal: BenchResult['goal'],
      baselineName: string,
    ): BenchResult => {
      if (missing) return { name, value: median(o), unit, goal, missing };
      const m = pairedMeans(o, p);
      return { name, value: m.value, unit, baseline: m.baseline, baselineName, goal };
    };
    const rows: BenchResult[] = [
      row(
        ROW_NAMES[0],
        'reads/s',
        rates(turns.ours.sequential),
        rates(turns.py.sequential),
        { of: 'ratio', atLeast: 0.9 },
        'PyTango',
      ),
      row(
        ROW_NAMES[1],
        'reads/s',
        rates(turns.ours.concurrent),
        rates(turns.py.sequential),
        { of: 'ratio', atLeast: 2 },
        'PyTango sequential',
      ),
      row(
        ROW_NAMES[2],
        'MB/s',
        rates(turns.ours.image, imageBytes / 1e6),
        rates(turns.py.image, (typeof py === 'string' ? imageBytes : py.imageBytes) / 1e6),
        { of: 'ratio', atLeast: 1 },
        'PyTango',
      ),
      row(
        ROW_NAMES[3],
        'reads/s',
        rates(turns.ours.concurrent),
        rates(turns.py.concurrent),
        undefined,
        `PyTango, ${CONCURRENCY} threads`,
      ),
    ];
    console.log(`Tango client, TangoTest on 127.0.0.1:${server.port}, ${ROUNDS} rounds of ${SECONDS} s turns`);
    for (const kind of ['sequential', 'concurrent', 'image'] as const) {
      const o = turns.ours[kind];
      const p = turns.py[kind];
      console.log(
        `  ${kind.padEnd(11)} ours ${o.map((t) => t.rate.toFixed(0)).join(' ')} /s, ${medianOf(o, 'cpuUs').toFixed(0)} µs CPU/op` +
          (p.length
            ? ` | PyTango ${p.map((t) => t.rate.toFixed(0)).join(' ')} /s, ${medianOf(p, 'cpuUs').toFixed(0)} µs CPU/op`
            : ''),
      );
    }
    if (missing) console.log(missing);
    for (const row of rows) printResult(row);
  } finally {
    if (typeof py !== 'string') py.client.stop();
    await dev.close();
    await server.stop();
  }
}

const ROW_NAMES = [
  'Tango scalar reads, sequential',
  `Tango scalar reads, ${CONCURRENCY} in flight (vs PyTango sequential)`,
  `Tango image reads (${IMAGE})`,
  `Tango scalar reads, ${CONCURRENCY} in flight (vs PyTango ${CONCURRENCY} threads)`,
] as const;

await main();
