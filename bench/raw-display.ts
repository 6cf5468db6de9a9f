/**
 * The floor of display latency on this machine, for the live-view bench: raw `ws` on loopback
 * sends a 1024² 8-bit image at 30 fps (the newest one whenever the page has acked the previous
 * one, as the web viewer does) to a minimal page that maps it through a 256-entry colour table
 * into an `ImageData`, puts it on a canvas shown scaled as the viewer's is, and acks with the
 * time it was drawn. No experiment, no contrast, no binning: what any viewer of this size costs
 * in transit and drawing in the same browser under the same load.
 * @module
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Page } from 'playwright-core';
import { WebSocketServer, type WebSocket } from 'ws';

/** The minimal page: colour table, `ImageData`, a canvas shown scaled, an ack with the time drawn. */
export const RAW_PAGE = String.raw`<!doctype html><meta charset="utf-8"><title>raw display</title>
<style>body{margin:0;background:#111} canvas{display:block;width:680px;height:auto;image-rendering:pixelated}</style>
<canvas id="c"></canvas>
<script>
const now = () => performance.timeOrigin + performance.now();
const lut = new Uint32Array(256);
for (let i = 0; i < 256; i++) lut[i] = ((255 << 24) | (i << 16) | (i << 8) | i) >>> 0;
const c = document.getElementById('c'), ctx = c.getContext('2d');
let image = null;
const ws = new WebSocket('ws://' + location.host + '/ws');
ws.binaryType = 'arraybuffer';
ws.onopen = () => { window.rawConnected = true; };
ws.onmessage = (e) => {
  const head = new Float64Array(e.data, 0, 3); // timestamp, width, height
  const w = head[1], h = head[2], px = new Uint8Array(e.data, 24, w * h);
  if (c.width !== w || c.height !== h) { c.width = w; c.height = h; image = null; }
  if (!image) image = ctx.createImageData(w, h);
  const out = new Uint32Array(image.data.buffer);
  for (let i = 0; i < px.length; i++) out[i] = lut[px[i]];
  ctx.putImageData(image, 0, 0);
  ws.send(JSON.stringify({ timestamp: head[0], drawnAt: now() }));
};
</script>`;

/** Serves {@link RAW_PAGE} and its WebSocket (`/ws`) on 127.0.0.1 at a free port. */
export async function listenRawPage(): Promise<{ http: Server; wss: WebSocketServer; url: string }> {
  const http = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end(RAW_PAGE));
  const wss = new WebSocketServer({ server: http, path: '/ws' });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const { port } = http.address() as AddressInfo;
  return { http, wss, url: `http://127.0.0.1:${port}/` };
}

/**
 * An image as {@link RAW_PAGE} reads it: its timestamp (now), width and height as float64, then
 * `size`² bytes of one value that changes with `seq`. A new buffer each time: the one in flight
 * may still be queued.
 */
export function rawImage(size: number, seq: number): ArrayBuffer {
  const buffer = new ArrayBuffer(24 + size * size);
  new Float64Array(buffer, 0, 3).set([performance.timeOrigin + performance.now(), size, size]);
  new Uint8Array(buffer, 24).fill((seq * 37) & 0xff);
  return buffer;
}

/** Median and p90 of frame produced → drawn (ms) over `durationMs` at `fps`, and how many were drawn. */
export async function rawDisplayLatency(
  page: Page,
  { size = 1024, fps = 30, durationMs = 6000 } = {},
): Promise<{ median: number; p90: number; drawn: number; produced: number }> {
  const { http, wss, url } = await listenRawPage();
  const latencies: number[] = [];
  let produced = 0;
  let timer: NodeJS.Timeout | undefined;
  try {
    const connected = new Promise<WebSocket>((resolve) => wss.once('connection', resolve));
    await page.goto(url);
    const socket = await connected;
    await page.waitForFunction(() => (window as unknown as { rawConnected?: boolean }).rawConnected === true);
    let latest: ArrayBuffer | undefined;
    let inFlight = false;
    const sendLatest = () => {
      if (inFlight || !latest) return;
      inFlight = true;
      socket.send(latest);
      latest = undefined;
    };
    socket.on('message', (data) => {
      const ack = JSON.parse(String(data)) as { timestamp: number; drawnAt: number };
      latencies.push(ack.drawnAt - ack.timestamp);
      inFlight = false;
      sendLatest();
    });
    const t0 = performance.now();
    await new Promise<void>((resolve) => {
      const tick = () => {
        const elapsed = performance.now() - t0;
        if (elapsed >= durationMs) return resolve();
        latest = rawImage(size, produced++);
        sendLatest();
        timer = setTimeout(tick, Math.max(0, ((produced * 1000) / fps - elapsed) | 0));
      };
      tick();
    });
    await new Promise((r) => setTimeout(r, 300));
  } finally {
    clearTimeout(timer);
    for (const client of wss.clients) client.terminate();
    await new Promise((r) => wss.close(r));
    await new Promise((r) => http.close(r));
  }
  const sorted = [...latencies].sort((a, b) => a - b);
  return {
    median: sorted[sorted.length >> 1] ?? NaN,
    p90: sorted[Math.floor(sorted.length * 0.9)] ?? NaN,
    drawn: sorted.length,
    produced,
  };
}
