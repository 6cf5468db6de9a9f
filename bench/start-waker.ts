/**
 * The start skew's same-run reference for bench/conductor.ts: a bare process that waits for each
 * start instant it reads on stdin (host clock, ms since the epoch, one a line) exactly as a camera
 * server does (`waitUntil`), and prints how late it woke (ms). Eight of these show how well the
 * host wakes eight processes at one instant, with no camera, no zeromq and no recording.
 * @module
 */
import { createInterface } from 'node:readline';
import { sleep } from '../core/index.js';
import { START_YIELD_MS } from '../conductor/host/recording.js';
import { waitUntil } from '../conductor/host/wait.js';
import { preciseNow } from '../walkers/formats/index.js';

console.log('ready');
for await (const line of createInterface({ input: process.stdin })) {
  const at = Number(line);
  await waitUntil(at);
  const late = preciseNow() - at;
  await sleep(START_YIELD_MS);
  console.log(String(late));
}
