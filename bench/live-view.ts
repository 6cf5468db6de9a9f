/**
 * Web live view benchmark (issue 6), each figure against a baseline measured in the same run:
 *  1. experiment throughput, 1024² (and 2048², binned) uint16 frames from a free-running
 *     camera-like producer, with `LiveView` + `WebViewer` attached and headless Chromium drawing
 *     every frame it can, vs without (target ≥ 0.95×); rounds alternate so both see the same load;
 *     a paced 200 fps camera (1024²) with and without; the machine's limit for the free-running
 *     rows twice: the producer next to a CPU burner taking Chromium's share, and next to Chromium
 *     itself drawing as many 512² images a second on the minimal page of bench/raw-display.ts,
 *     fed by raw `ws` from another process (bench/raw-feeder.ts; the producer is bound by memory
 *     bandwidth, which a burner that only computes does not take);
 *  2. display latency, frame produced → drawn in the page (`performance.timeOrigin +
 *     performance.now()` on both sides), median and p90 for 1024² uint16 frames at 30 fps
 *     (goal ≤ 30 ms), against the floor of this browser and load: raw `ws` and a minimal canvas
 *     page showing the same 1024² bytes at 30 fps (bench/raw-display.ts).
 * Run: `npx tsx bench/live-view.ts [--throughput | --latency]` (needs /usr/bin/chromium); the flags
 * run one part only.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { makeFrame, type Frame } from '../core/index.js';
import { Acquisition, Experiment } from '../experiments/index.js';
import { LiveView, WebViewer, type WebViewerStats } from '../addons/local/index.js';
import type {} from '../addons/local/web-viewer/page-global.js';
import { rawDisplayLatency } from './raw-display.js';
import { printResult } from './result.js';

const CHROMIUM = '/usr/bin/chromium';
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];
const now = () => performance.timeOrigin + performance.now();

/**
 * A camera-like producer: a ring of 16 buffers (a DMA ring), each filled before it is yielded, and
 * a turn of the event loop per frame (a camera waits on I/O). `fps` paces it (0: free-running).
 */
function camera(size: number, durationMs: number, counter: { n: number }, fps = 0) {
  const ring = Array.from({ length: 16 }, () => new Uint16Array(size * size));
  return async function* (signal: AbortSignal): AsyncGenerator<Frame> {
    const t0 = performance.now();
    for (let i = 0; performance.now() - t0 < durationMs && !signal.aborted; i++) {
      do await new Promise((r) => setImmediate(r));
      while (fps > 0 && performance.now() - t0 < (i * 1000) / fps);
      const data = ring[i % ring.length]!;
      data.fill((i * 37) & 0xfff);
      data[i % data.length] = 4095; // something that moves
      counter.n++;
      yield makeFrame(data, [size, size], { frameNumber: i, timestamp: now() });
    }
  };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

const row = (name: string, value: string, baseline: string, ratio: string) =>
  console.log(`${name.padEnd(62)} ${value.padStart(16)} ${baseline.padStart(16)} ${ratio.padStart(8)}`);
/** Process `pid`'s parent and the CPU ms it used so far (utime + stime of /proc/PID/stat); undefined once it is gone. */
function procStat(pid: number): { parent: number; cpuMs: number } | undefined {
  try {
    const st = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
    return { parent: Number(f[1]), cpuMs: ((Number(f[11]) + Number(f[12])) * 1000) / TICKS };
  } catch {
    return undefined;
  }
}

/** CPU ms used so far by the processes started under this one (Chromium). */
function childrenCpuMs(): number {
  const parent = new Map<number, number>();
  const cpu = new Map<number, number>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    const stat = procStat(Number(d));
    if (!stat) continue; // gone
    parent.set(Number(d), stat.parent);
    cpu.set(Number(d), stat.cpuMs);
  }
  let total = 0;
  for (const [pid, ms] of cpu) {
    let p = pid;
    while (p > 1 && p !== process.pid) p = parent.get(p) ?? 0;
    if (p === process.pid && pid !== process.pid) total += ms;
  }
  return total;
}
const TICKS = 100; // USER_HZ

/**
 * Starts a process that keeps `share` of a core busy (busy for `share` of every 33 ms, the rest
 * asleep: a browser drawing at 30 fps, without the browser); resolves, once it runs, with what
 * stops it.
 */
async function burnCpu(share: number): Promise<() => void> {
  const code =
    'const s = Number(process.argv[1]); let x = 0; const tick = () => { const t0 = performance.now(); ' +
    'while (performance.now() - t0 < 33 * s) x = (x * 1103515245 + 12345) | 0; ' +
    'setTimeout(tick, Math.max(0, 33 - (performance.now() - t0))); }; tick();';
  const child = spawn(process.execPath, ['-e', code, String(share)], { stdio: 'ignore' });
  await new Promise((resolve) => setTimeout(resolve, 300)); // started and burning
  return () => child.kill('SIGKILL');
}

/** CPU ms used so far by process `pid` alone (0 once it is gone). */
const processCpuMs = (pid: number): number => procStat(pid)?.cpuMs ?? 0;

/** The size the viewer shows 1024² and 2048² frames at (binned to at most its default maxSize). */
const SHOWN = 512;

/**
 * Starts bench/raw-feeder.ts (raw ws + the minimal page's server, another process) feeding `size`²
 * images at most `fps` a second while started; resolves once it listens.
 */
async function startRawFeeder(size: number, fps: number) {
  const script = fileURLToPath(new URL('./raw-feeder.ts', import.meta.url));
  const child = spawn(process.execPath, [...process.execArgv, script, String(size), String(fps)], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const next = <T>(type: string) =>
    new Promise<T>((resolve, reject) => {
      const onMessage = (m: { type?: string }) => {
        if (m?.type !== type) return;
        child.off('exit', onExit);
        child.off('message', onMessage);
        resolve(m as T);
      };
      const onExit = (code: number | null) => reject(new Error(`raw-feeder.ts exited (${code}) before '${type}'`));
      child.on('message', onMessage);
      child.once('exit', onExit);
    });
  const { url } = await next<{ url: string }>('listening');
  return {
    url,
    pid: child.pid!,
    start: () => void child.send('start'),
    /** Stops feeding; resolves with the images the page drew since start. */
    stop: async () => {
      const stopped = next<{ drawn: number }>('stopped');
      child.send('stop');
      return (await stopped).drawn;
    },
    close: () => void child.kill('SIGKILL'),
  };
}

/**
 * Server-thread CPU per image sent between two stats() snapshots: all the thread's CPU time over
 * the window (the thread clock is exact over seconds), and the sum of the times taken around each
 * send (a lower bound: the clock advances at scheduler ticks, so short work after a wake-up is
 * undercounted by up to a tick).
 */
const serverMsPerImage = (a: WebViewerStats, b: WebViewerStats) =>
  b.sent > a.sent
    ? {
        thread: (b.serverThreadMs - a.serverThreadMs) / (b.sent - a.sent),
        timed: (b.sendMs * b.sent - a.sendMs * a.sent) / (b.sent - a.sent),
      }
    : { thread: NaN, timed: NaN };

/** Thrown to skip the rest of the bench (one part only). */
class Done extends Error {}

if (!existsSync(CHROMIUM)) {
  console.log(`live-view bench skipped: ${CHROMIUM} is missing (Debian package chromium)`);
  process.exit(0);
}

console.log(
  `load average at start: ${loadavg()
    .map((x) => x.toFixed(1))
    .join(' ')}`,
);
const profile = await mkdtemp(join(tmpdir(), 'concert-bench-chromium-'));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: CHROMIUM,
  args: FLAGS,
  viewport: { width: 1400, height: 1000 },
});
const page = await context.newPage();
const viewer = await WebViewer.create();
const bare = await WebViewer.create();
try {
  await page.goto(viewer.url);
  await page.waitForFunction(() => window.concertViewer?.connected, null, { timeout: 10000 });
  console.log(`${'benchmark'.padEnd(62)} ${'value'.padStart(16)} ${'baseline'.padStart(16)} ${'ratio'.padStart(8)}`);

  // 1. Throughput with and without the web live view.
  const run = async (size: number, attached: boolean, durationMs: number, fps = 0, to: WebViewer = viewer) => {
    const counter = { n: 0 };
    const exp = await Experiment.create([await Acquisition.create('radios', camera(size, durationMs, counter, fps))]);
    const live = attached ? await LiveView.create(exp, { viewer: to }) : undefined;
    const t0 = performance.now();
    await exp.run();
    const rate = counter.n / ((performance.now() - t0) / 1000);
    await live?.detach();
    return rate;
  };
  const parts = { throughput: !process.argv.includes('--latency'), latency: !process.argv.includes('--throughput') };
  const ROUNDS = 8;
  const ROUND_MS = 600;
  for (const size of parts.throughput ? [1024, 2048] : []) {
    await run(size, true, 500); // warm-up
    const before = viewer.stats();
    const without: number[] = [];
    const withViewer: number[] = [];
    const noPage: number[] = [];
    let browserMs = 0;
    for (let r = 0; r < ROUNDS; r++) {
      // Alternate the order too, so a trend in the machine's load hits both alike.
      const viewed = async () => {
        const c0 = childrenCpuMs();
        withViewer.push(await run(size, true, ROUND_MS));
        browserMs += childrenCpuMs() - c0;
      };
      if (r % 2) await viewed();
      without.push(await run(size, false, ROUND_MS));
      // LiveView + a WebViewer no page watches: our own cost on the producer, without Chromium's.
      noPage.push(await run(size, true, ROUND_MS, 0, bare));
      if (!(r % 2)) await viewed();
    }
    const after = viewer.stats();
    const a = median(without);
    const b = median(withViewer);
    const ratio = median(without.map((x, i) => withViewer[i]! / x));
    const drawn = after.drawn - before.drawn;
    const seconds = (ROUNDS * ROUND_MS) / 1000;
    // The viewer's own work on the producer's thread: the copies (show() itself is a few field writes).
    const share = (after.copyMs * after.sent - before.copyMs * before.sent) / 1000 / seconds;
    row(
      `${size}² u16 experiment, web live view + Chromium attached`,
      `${b.toFixed(0)} fps`,
      `${a.toFixed(0)} fps`,
      ratio.toFixed(3),
    );
    console.log(
      `   (median of ${ROUNDS} paired rounds of ${ROUND_MS} ms; the viewer's copies took ${(100 * share).toFixed(1)} % of the producer ` +
        `thread's time)`,
    );
    const server = serverMsPerImage(before, after);
    const serverMs = server.thread;
    console.log(
      `   pages drew ${(drawn / seconds).toFixed(0)} frames/s; ${after.sent - before.sent} sent, ` +
        `${after.dropped - before.dropped} replaced before sending; ${after.copyMs.toFixed(2)} ms session-thread CPU ` +
        `per image (copy), ${serverMs.toFixed(2)} ms server-thread CPU (bin + contrast + send; ` +
        `${server.timed.toFixed(2)} ms timed around the sends); Chromium ` +
        `${(browserMs / drawn).toFixed(1)} ms CPU per image drawn, ${((100 * browserMs) / 1000 / seconds).toFixed(0)} % of a core`,
    );
    const bareRatio = median(without.map((x, i) => noPage[i]! / x));
    console.log(
      `   LiveView + web viewer without a page: median paired ratio ${bareRatio.toFixed(3)} (our code on the producer's ` +
        `thread); with the page / without a page ${median(noPage.map((x, i) => withViewer[i]! / x)).toFixed(3)} (Chromium and ` +
        `the server thread competing for the cores)`,
    );
    console.log(
      `   medians: ${b.toFixed(0)} fps with, ${a.toFixed(0)} fps without (ratio of medians ${(b / a).toFixed(3)}); ` +
        `the row's ratio is the median of the paired ratios`,
    );
    // One statistic: the table's ratio (value / baseline) is the median paired ratio, which a
    // trend in the machine's load (other processes) hits alike on both sides of each pair.
    printResult({
      name: `free-running ${size}² producer with web viewer + Chromium (paired rounds; value = ratio × median without)`,
      value: ratio * a,
      unit: 'frames/s',
      baseline: a,
      baselineName: 'without live view',
      goal: size === 1024 ? { of: 'ratio', atLeast: 0.9 } : undefined,
    });
    printResult({ name: `Chromium CPU per drawn image, ${size}² binned to 512`, value: browserMs / drawn, unit: 'ms' });
    // The limit on this machine: the same producer next to a plain process that burns the CPU share
    // Chromium took (no browser, no viewer). What that costs the producer, any page would cost it.
    const chromiumShare = Math.min(1, browserMs / 1000 / seconds);
    const alone: number[] = [];
    const nextToBurner: number[] = [];
    for (let r = 0; r < ROUNDS / 2; r++) {
      alone.push(await run(size, false, ROUND_MS));
      const stop = await burnCpu(chromiumShare);
      try {
        nextToBurner.push(await run(size, false, ROUND_MS));
      } finally {
        stop();
      }
    }
    const burnRatio = median(alone.map((x, i) => nextToBurner[i]! / x));
    console.log(
      `   limit: next to a plain process burning ${(100 * chromiumShare).toFixed(0)} % of a core (Chromium's share), the ` +
        `producer alone makes ${burnRatio.toFixed(3)} of its rate (median paired ratio; load ${loadavg()[0]!.toFixed(1)})`,
    );
    printResult({
      name: `free-running ${size}² producer next to a CPU burner taking Chromium's share (the machine's limit for that row)`,
      value: burnRatio * median(alone),
      unit: 'frames/s',
      baseline: median(alone),
      baselineName: 'alone',
    });
    // The limit with the browser's own work instead of a burner's (the producer above is bound by
    // memory bandwidth, and drawing is memory traffic): Chromium drawing as many 512² images a
    // second as it drew of ours, on the minimal page, fed from another process by raw ws. No
    // viewer, no LiveView, no binning in this process: what showing that many images costs here.
    const rate = drawn / seconds;
    const feeder = await startRawFeeder(SHOWN, rate);
    const rawPage = await context.newPage();
    try {
      await rawPage.goto(feeder.url);
      await rawPage.waitForFunction(() => (window as unknown as { rawConnected?: boolean }).rawConnected === true);
      const apart: number[] = [];
      const nextToChromium: number[] = [];
      let rawDrawn = 0;
      let rawBrowserMs = 0;
      let feederMs = 0;
      for (let r = 0; r < ROUNDS / 2; r++) {
        const fed = async () => {
          const f0 = processCpuMs(feeder.pid);
          const c0 = childrenCpuMs() - f0;
          feeder.start();
          nextToChromium.push(await run(size, false, ROUND_MS));
          rawDrawn += await feeder.stop();
          const f1 = processCpuMs(feeder.pid);
          feederMs += f1 - f0;
          rawBrowserMs += childrenCpuMs() - f1 - c0;
        };
        if (r % 2) await fed();
        apart.push(await run(size, false, ROUND_MS));
        if (!(r % 2)) await fed();
      }
      const fedSeconds = ((ROUNDS / 2) * ROUND_MS) / 1000;
      const chromiumRatio = median(apart.map((x, i) => nextToChromium[i]! / x));
      console.log(
        `   limit: next to Chromium drawing ${(rawDrawn / fedSeconds).toFixed(0)} ${SHOWN}² images/s (asked ${rate.toFixed(0)}) ` +
          `on the minimal page, fed by raw ws from another process (${((100 * rawBrowserMs) / 1000 / fedSeconds).toFixed(0)} % ` +
          `of a core), the producer alone makes ${chromiumRatio.toFixed(3)} of its rate (median paired ratio; load ` +
          `${loadavg()[0]!.toFixed(1)}); the raw ws process took ${(feederMs / Math.max(1, rawDrawn)).toFixed(2)} ms CPU ` +
          `per image (making and sending it: the floor of the server thread's send)`,
      );
      printResult({
        name:
          `free-running ${size}² producer next to Chromium drawing as many ${SHOWN}² images on a minimal page ` +
          `(raw ws, another process; the machine's limit for that row)`,
        value: chromiumRatio * median(apart),
        unit: 'frames/s',
        baseline: median(apart),
        baselineName: 'alone',
      });
      // The server thread's row, beside what only making and sending an image of the size it sends costs.
      printResult({
        name: `web viewer server-thread CPU per shown ${size}² image (bin to 512 + contrast + send)`,
        value: serverMs,
        unit: 'ms',
        baseline: feederMs / Math.max(1, rawDrawn),
        baselineName: `raw ws process making and sending a ${SHOWN}² image (same run)`,
        goal: size === 1024 ? { of: 'value', atMost: 2 } : undefined,
      });
    } finally {
      await rawPage.close();
      feeder.close();
    }
  }

  // 1b. A camera at 200 fps (1024²): is it held back at all when the machine has headroom?
  if (parts.throughput) {
    const without: number[] = [];
    const withViewer: number[] = [];
    for (let r = 0; r < 4; r++) {
      without.push(await run(1024, false, 1000, 200));
      withViewer.push(await run(1024, true, 1000, 200));
    }
    const a = median(without);
    const b = median(withViewer);
    row(
      '1024² u16 camera at 200 fps, web live view + Chromium attached',
      `${b.toFixed(1)} fps`,
      `${a.toFixed(1)} fps`,
      (b / a).toFixed(3),
    );
    printResult({
      name: 'paced 200 fps camera with web live view, 1024² u16',
      value: b,
      unit: 'frames/s',
      baseline: a,
      baselineName: 'without live view',
    });
  }

  // 2. Display latency at 30 fps, 1024² uint16 (sent as is, and binned to 512² for the page),
  // after the floor: the same size of bytes through raw ws into a minimal page.
  if (!parts.latency) throw new Done();
  const rawC0 = childrenCpuMs();
  const raw = await rawDisplayLatency(page, { size: 1024, fps: 30, durationMs: 6000 });
  const rawBrowserMs = childrenCpuMs() - rawC0;
  row('display latency, raw ws + minimal canvas page, 1024² at 30 fps', `${raw.median.toFixed(1)} ms`, '', '');
  console.log(
    `   p90 ${raw.p90.toFixed(1)} ms; ${raw.drawn} of ${raw.produced} frames drawn; Chromium ` +
      `${(rawBrowserMs / raw.drawn).toFixed(1)} ms CPU per image drawn, ${((100 * rawBrowserMs) / 6000).toFixed(0)} % of a core`,
  );
  for (const maxSize of [1024, 512]) {
    const latencyViewer = await WebViewer.create({ maxSize });
    try {
      await page.goto(latencyViewer.url);
      await page.waitForFunction(() => window.concertViewer?.connected, null, { timeout: 10000 });
      const counter = { n: 0 };
      const exp = await Experiment.create([await Acquisition.create('radios', camera(1024, 6000, counter, 30))]);
      await LiveView.create(exp, { viewer: latencyViewer });
      // The counts of the page's connection carry the thread clock the window starts from.
      for (const t0 = performance.now(); latencyViewer.stats().clients < 1 && performance.now() - t0 < 10000;)
        await new Promise((r) => setTimeout(r, 10));
      const c0 = childrenCpuMs();
      const s0 = latencyViewer.stats();
      await exp.run();
      const browserMs = childrenCpuMs() - c0;
      await new Promise((r) => setTimeout(r, 300));
      const s = latencyViewer.stats();
      const server = serverMsPerImage(s0, s);
      const lat = s.latencyMs!;
      const what = maxSize >= 1024 ? '' : `, shown binned to ${maxSize}²`;
      row(
        `display latency 1024² u16 at 30 fps${what}, median`,
        `${lat.median.toFixed(1)} ms`,
        '30 ms',
        (30 / lat.median).toFixed(2),
      );
      console.log(
        `   p90 ${lat.p90.toFixed(1)} ms over ${lat.samples} frames; ${s.drawn} of ${counter.n} frames drawn, ${s.dropped} replaced, ` +
          `${s.upstreamDropped} dropped upstream; ${s.copyMs.toFixed(2)} ms session-thread CPU per image (copy); ` +
          `median sent → received ` +
          `${s.transitMs?.toFixed(1)} ms, received → drawn ${s.drawMs?.toFixed(1)} ms`,
      );
      console.log(
        `   server thread ${server.thread.toFixed(2)} ms CPU per image (${server.timed.toFixed(2)} timed around the sends); ` +
          `Chromium ${(browserMs / s.drawn).toFixed(1)} ms CPU per image drawn, ${((100 * browserMs) / 6000).toFixed(0)} % of a core`,
      );
      printResult({
        name: `display latency, 1024² u16 at 30 fps${maxSize >= 1024 ? ', shown unbinned' : what} (median)`,
        value: lat.median,
        unit: 'ms',
        ...(maxSize >= 1024 ? { baseline: raw.median, baselineName: 'raw ws + minimal canvas page' } : {}),
        goal: maxSize >= 1024 ? { of: 'value', atMost: 30 } : undefined,
      });
      printResult({
        name: `web viewer server-thread CPU per image, 1024² at 30 fps${maxSize >= 1024 ? ', unbinned' : what}`,
        value: server.thread,
        unit: 'ms',
      });
      printResult({
        name: `Chromium CPU per drawn image, 1024² at 30 fps${maxSize >= 1024 ? ', unbinned' : what}`,
        value: browserMs / s.drawn,
        unit: 'ms',
      });
    } finally {
      await latencyViewer.close();
    }
  }
} catch (error) {
  if (!(error instanceof Done)) throw error;
} finally {
  await bare.close();
  await viewer.close();
  await context.close();
  await rm(profile, { recursive: true, force: true });
}
console.log(
  `load average at end: ${loadavg()
    .map((x) => x.toFixed(1))
    .join(' ')}`,
);
