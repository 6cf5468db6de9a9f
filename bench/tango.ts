/**
 * Tango client benchmark: starts TangoTest (no database) on a free loopback port and measures,
 * with this client and with PyTango on the same server, sequential and concurrent scalar reads
 * per second and image read throughput; prints a table with the ratios and stops the server.
 *
 * Run: `npx tsx bench/tango.ts [seconds-per-measurement]`
 * @module
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import net from 'node:net';
import { DeviceProxy } from '../tango/index.js';

const TANGO_TEST = '/usr/lib/tango/TangoTest';
const PYTHON = '/usr/bin/python3';
const SECONDS = Number(process.argv[2] ?? 2);
const CONCURRENCY = 16;
const SCALAR = 'double_scalar';
const IMAGE = 'double_image_ro';

interface Result {
  sequential: number;
  concurrent: number;
  imageMBs: number;
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

async function timed(seconds: number, body: () => Promise<number>): Promise<number> {
  const end = performance.now() + seconds * 1000;
  const t0 = performance.now();
  let n = 0;
  while (performance.now() < end) n += await body();
  return n / ((performance.now() - t0) / 1000);
}

async function benchNode(url: string): Promise<Result> {
  const dev = await DeviceProxy.create(url);
  try {
    for (let i = 0; i < 200; i++) await dev.readAttribute(SCALAR); // warm-up
    const sequential = await timed(SECONDS, async () => {
      await dev.readAttribute(SCALAR);
      return 1;
    });
    const concurrent = await timed(SECONDS, async () => {
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
    const bytes = ((await dev.readAttribute(IMAGE)).value as Float64Array).byteLength;
    const images = await timed(SECONDS, async () => {
      await dev.readAttribute(IMAGE);
      return 1;
    });
    return { sequential, concurrent, imageMBs: (images * bytes) / 1e6 };
  } finally {
    await dev.close();
  }
}

const PY = String.raw`
import json, sys, time, tango
from concurrent.futures import ThreadPoolExecutor
url, secs, conc = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
d = tango.DeviceProxy(url)
for _ in range(200): d.read_attribute('${SCALAR}')
def timed(body):
    t0 = time.perf_counter(); end = t0 + secs; n = 0
    while time.perf_counter() < end: n += body()
    return n / (time.perf_counter() - t0)
def seq():
    d.read_attribute('${SCALAR}'); return 1
pool = ThreadPoolExecutor(conc)
def worker(_):
    for _ in range(50): d.read_attribute('${SCALAR}')
    return 50
def con():
    return sum(pool.map(worker, range(conc)))
nbytes = d.read_attribute('${IMAGE}').value.nbytes
def img():
    d.read_attribute('${IMAGE}'); return 1
r = dict(sequential=timed(seq), concurrent=timed(con), imageMBs=timed(img) * nbytes / 1e6)
pool.shutdown()
print(json.dumps(r))
`;

function benchPython(url: string): Result | string {
  const r = spawnSync(PYTHON, ['-c', PY, url, String(SECONDS), String(CONCURRENCY)], { timeout: 120_000 });
  if (r.status !== 0) return `PyTango run failed: ${r.stderr?.toString().trim().split('\n').pop() ?? r.error?.message}`;
  return JSON.parse(r.stdout.toString().trim().split('\n').pop()!) as Result;
}

async function main(): Promise<void> {
  if (!existsSync(TANGO_TEST)) {
    console.log(`${TANGO_TEST} is missing (install tango-test); nothing to measure.`);
    return;
  }
  const port = await freePort();
  const server = spawn(
    TANGO_TEST,
    ['test', '-ORBendPoint', `giop:tcp:127.0.0.1:${port}`, '-nodb', '-dlist', 'sys/tg_test/1'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  try {
    await new Promise<void>((resolve, reject) => {
      let log = '';
      const timer = setTimeout(() => reject(new Error(`TangoTest did not start: ${log}`)), 15000);
      server.stdout!.on('data', (d: Buffer) => {
        log += d.toString();
        if (log.includes('Ready to accept request')) {
          clearTimeout(timer);
          resolve();
        }
      });
      server.once('exit', (c) => {
        clearTimeout(timer);
        reject(new Error(`TangoTest exited (${c}): ${log}`));
      });
    });
    const url = `tango://127.0.0.1:${port}/sys/tg_test/1#dbase=no`;
    const node = await benchNode(url);
    const py = benchPython(url);
    const rows: [string, keyof Result, string][] = [
      ['sequential scalar reads', 'sequential', 'reads/s'],
      [`concurrent scalar reads (${CONCURRENCY} in flight)`, 'concurrent', 'reads/s'],
      [`image reads (${IMAGE})`, 'imageMBs', 'MB/s'],
    ];
    console.log(`Tango client bench, TangoTest on 127.0.0.1:${port}, ${SECONDS} s per measurement`);
    console.log(
      `${'measurement'.padEnd(42)}${'concert/tango'.padStart(16)}${'PyTango'.padStart(16)}${'ratio'.padStart(8)}`,
    );
    for (const [label, key, unit] of rows) {
      const p = typeof py === 'string' ? undefined : py[key];
      console.log(
        `${label.padEnd(42)}${`${node[key].toFixed(0)} ${unit}`.padStart(16)}` +
          `${p === undefined ? 'n/a'.padStart(16) : `${p.toFixed(0)} ${unit}`.padStart(16)}` +
          `${p === undefined ? '' : `${(node[key] / p).toFixed(2)}×`.padStart(8)}`,
      );
    }
    if (typeof py === 'string') console.log(py);
    console.log(
      `sequential vs PyTango sequential: target ≥ 0.5×; concurrent vs PyTango sequential: target ≥ 2×` +
        (typeof py === 'string'
          ? ''
          : ` → ${(node.sequential / py.sequential).toFixed(2)}×, ${(node.concurrent / py.sequential).toFixed(2)}×`),
    );
  } finally {
    server.kill('SIGKILL');
  }
}

await main();
