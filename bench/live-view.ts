/**
 * Web live view benchmark (issue 6), each figure against a baseline measured in the same run:
 *  1. experiment throughput, 1024² (and 2048², binned) uint16 frames from a free-running
 *     camera-like producer, with `LiveView` + `WebViewer` attached and headless Chromium drawing
 *     every frame it can, vs without (target ≥ 0.95×); rounds alternate so both see the same load;
 *     a paced 200 fps camera (1024²) with and without;
 *  2. display latency, frame produced → drawn in the page (`performance.timeOrigin +
 *     performance.now()` on both sides), median and p90 for 1024² uint16 frames at 30 fps
 *     (anchor: frame age ≤ 30 ms).
 * Run: `npx tsx bench/live-view.ts` (needs /usr/bin/chromium).
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { makeFrame, type Frame } from '../core/index.js';
import { Acquisition, Experiment } from '../experiments/index.js';
import { LiveView, WebViewer } from '../addons/local/index.js';
import type {} from '../addons/local/web-viewer/page-global.js';

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
const result = (name: string, value: number, unit: string, baseline?: number, baselineName?: string) =>
  console.log(`BENCH_RESULT ${JSON.stringify({ name, value, unit, baseline, baselineName })}`);

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
try {
  await page.goto(viewer.url);
  await page.waitForFunction(() => window.concertViewer?.connected, null, { timeout: 10000 });
  console.log(`${'benchmark'.padEnd(62)} ${'value'.padStart(16)} ${'baseline'.padStart(16)} ${'ratio'.padStart(8)}`);

  // 1. Throughput with and without the web live view.
  const run = async (size: number, attached: boolean, durationMs: number, fps = 0) => {
    const counter = { n: 0 };
    const exp = await Experiment.create([await Acquisition.create('radios', camera(size, durationMs, counter, fps))]);
    const live = attached ? await LiveView.create(exp, { viewer }) : undefined;
    const t0 = performance.now();
    await exp.run();
    const rate = counter.n / ((performance.now() - t0) / 1000);
    await live?.detach();
    return rate;
  };
  const ROUNDS = 8;
  const ROUND_MS = 600;
  for (const size of [1024, 2048]) {
    await run(size, true, 500); // warm-up
    const before = viewer.stats();
    const without: number[] = [];
    const withViewer: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      // Alternate the order too, so a trend in the machine's load hits both alike.
      if (r % 2) withViewer.push(await run(size, true, ROUND_MS));
      without.push(await run(size, false, ROUND_MS));
      if (!(r % 2)) withViewer.push(await run(size, true, ROUND_MS));
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
    console.log(
      `   pages drew ${(drawn / seconds).toFixed(0)} frames/s; ${after.sent - before.sent} sent, ${after.dropped - before.dropped} ` +
        `replaced before sending; ${after.copyMs.toFixed(2)} ms session-thread CPU per image (copy), ${after.sendMs.toFixed(2)} ms ` +
        `server-thread CPU (bin + send)`,
    );
    result(
      `experiment throughput with web live view, ${size}² u16 (median paired ratio ${ratio.toFixed(3)})`,
      b,
      'frames/s',
      a,
      'without live view',
    );
  }

  // 1b. A camera at 200 fps (1024²): is it held back at all when the machine has headroom?
  {
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
    result('paced 200 fps camera with web live view, 1024² u16', b, 'frames/s', a, 'without live view');
  }

  // 2. Display latency at 30 fps, 1024² uint16 (sent as is, and binned to 512² for the page).
  for (const maxSize of [1024, 512]) {
    const latencyViewer = await WebViewer.create({ maxSize });
    try {
      await page.goto(latencyViewer.url);
      await page.waitForFunction(() => window.concertViewer?.connected, null, { timeout: 10000 });
      const counter = { n: 0 };
      const exp = await Experiment.create([await Acquisition.create('radios', camera(1024, 6000, counter, 30))]);
      await LiveView.create(exp, { viewer: latencyViewer });
      await exp.run();
      await new Promise((r) => setTimeout(r, 300));
      const s = latencyViewer.stats();
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
      result(
        `web live view display latency, 1024² u16 at 30 fps${what} (median)`,
        lat.median,
        'ms',
        30,
        'anchor (frame age)',
      );
    } finally {
      await latencyViewer.close();
    }
  }
} finally {
  await viewer.close();
  await context.close();
  await rm(profile, { recursive: true, force: true });
}
console.log(
  `load average at end: ${loadavg()
    .map((x) => x.toFixed(1))
    .join(' ')}`,
);
