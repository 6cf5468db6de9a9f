/**
 * A child process of the live-view bench, for the limit of its free-running row: raw `ws` on
 * loopback serving raw-display.ts's minimal page, fed `size`² 8-bit images (the newest whenever
 * the page acked the previous one) at most `fps` a second while told to run. What the web viewer
 * asks of the machine beyond its own code: Chromium drawing that many images of that size, and
 * the bytes going through a socket, with no experiment, binning or contrast in the producer's
 * process.
 *
 *   node --import tsx bench/raw-feeder.ts SIZE FPS      (IPC: 'start', 'stop')
 *
 * Sends `{ type: 'listening', url }`, and after each 'stop' `{ type: 'stopped', drawn }` (images
 * the page acked since 'start').
 * @module
 */
import type { WebSocket } from 'ws';
import { listenRawPage, rawImage } from './raw-display.js';

const size = Number(process.argv[2]);
const fps = Number(process.argv[3]);
if (!process.send || !(size > 0) || !(fps > 0)) {
  console.error('usage (from the live-view bench, with IPC): raw-feeder.ts SIZE FPS');
  process.exit(2);
}
const send = process.send.bind(process);

let socket: WebSocket | undefined;
let running = false;
let inFlight = false;
let drawn = 0;
let produced = 0;
let timer: NodeJS.Timeout | undefined;
let t0 = 0;

/** Sends an image if the page has none in flight and the rate allows one now; else waits. */
function pump(): void {
  if (!running || inFlight || !socket || timer) return;
  const wait = t0 + (produced * 1000) / fps - performance.now();
  if (wait > 0) {
    timer = setTimeout(() => {
      timer = undefined;
      pump();
    }, wait);
    return;
  }
  inFlight = true;
  socket.send(rawImage(size, produced++));
}

const { wss, url } = await listenRawPage();
wss.on('connection', (ws) => {
  socket = ws;
  ws.on('message', () => {
    inFlight = false;
    if (running) drawn++;
    pump();
  });
});

process.on('message', (m: unknown) => {
  if (m === 'start') {
    running = true;
    drawn = 0;
    produced = 0;
    t0 = performance.now();
    pump();
  } else if (m === 'stop') {
    running = false;
    clearTimeout(timer);
    timer = undefined;
    send({ type: 'stopped', drawn });
  }
});
process.on('disconnect', () => process.exit(0));

send({ type: 'listening', url });
