/**
 * A shared-memory sender in a process of its own, for the shm tests and the transport bench:
 * `node --import tsx shm-sender-child.ts ENDPOINT MODE COUNT SIDE [STREAMS]`. Prints `ready`
 * once bound, then on every `go` line on stdin sends COUNT frames of SIDE² uint16 (frame i holds
 * i % 4 + 1 everywhere, metadata frameNumber i) and the end marker, and prints `sent N dropped D`.
 * Exits when stdin closes.
 */
import { createInterface } from 'node:readline';
import { makeFrame } from '../../../core/frame.js';
import { ShmSender } from '../../../transport/shm/index.js';

const [endpoint, mode, countText, sideText] = process.argv.slice(2);
const count = Number(countText);
const side = Number(sideText);
const sender = await ShmSender.create({ mode: mode as 'push' | 'pub', bind: endpoint!, sendTimeoutMs: 20_000 });
const frames = Array.from({ length: 4 }, (_, k) => new Uint16Array(side * side).fill(k + 1));
console.log('ready');
for await (const line of createInterface({ input: process.stdin })) {
  if (line.trim() !== 'go') continue;
  const before = sender.counters;
  for (let i = 0; i < count; i++) {
    await sender.send(makeFrame(frames[i % 4]!, [side, side], { frameNumber: i }));
  }
  await sender.end();
  const after = sender.counters;
  console.log(`sent ${after.sent - before.sent} dropped ${after.dropped - before.dropped}`);
}
sender.close();
