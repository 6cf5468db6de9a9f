/**
 * The mapping thread's entry (see `mapping-thread.ts`): maps the pixels it is sent to 8-bit grey,
 * burns in the overlay text, and sends the image back with the pixel buffer (for reuse), both
 * transferred; or maps a frame in place in a slot of the shared memory (`grey-slots.ts`) and
 * replies with its id alone. uint16 frames in a slot go through the WebAssembly SIMD kernel once
 * it matched the window's lookup table on every value (`grey-wasm.ts`).
 * @module
 * @internal
 */
import { parentPort } from 'node:worker_threads';
import { itemSize } from '../core/frame.js';
import { lookupTable, mapPixels, percentilesOf, PIXEL_ARRAYS, widen, type TableCache } from './grey-kernel.js';
import { reachView } from './grey-slots.js';
import { GreyWasm } from './grey-wasm.js';
import type { GreyJob, GreyMessage, GreyReply, GreySlotJob } from './mapping-thread.js';
import { drawText } from './overlay.js';

const port = parentPort!;
const table: TableCache = {};
let memory: WebAssembly.Memory | undefined;
let kernel: GreyWasm | undefined;
/** Whether the kernel matched the table of the window last checked. */
const checked: { key?: string; ok?: boolean } = {};

port.on('message', (message: GreyMessage) => {
  if ('memory' in message) {
    memory = message.memory;
    kernel = memory && GreyWasm.create(memory);
    return;
  }
  if ('slot' in message) {
    port.postMessage(mapInSlot(message));
    return;
  }
  const job: GreyJob = message;
  let reply: GreyReply;
  const transfer: ArrayBuffer[] = [job.pixels];
  try {
    const data = new PIXEL_ARRAYS[job.dtype](job.pixels);
    const window = job.window ?? percentilesOf([{ data, dtype: job.dtype }], job.low!, job.high!);
    const image = job.image?.byteLength === data.length ? new Uint8Array(job.image) : new Uint8Array(data.length);
    mapPixels(data, job.dtype, window, image, table, job.range);
    if (job.text) drawText(image, job.width, job.height, job.text, job.range);
    reply = { id: job.id, image, pixels: job.pixels };
    transfer.push(image.buffer);
  } catch (error) {
    reply = { id: job.id, error: error instanceof Error ? error.message : String(error), pixels: job.pixels };
  }
  port.postMessage(reply, transfer);
});
port.postMessage({ ready: true });

/** Maps the frame of a slot in place (the image after its pixels). */
function mapInSlot(job: GreySlotJob): GreyReply {
  try {
    if (!memory) throw new Error('the mapping thread has no slot memory');
    const n = job.width * job.height;
    reachView(memory, Math.max(job.slot.input + n * itemSize(job.dtype), job.slot.output + n));
    const data = new PIXEL_ARRAYS[job.dtype](memory.buffer as unknown as ArrayBuffer, job.slot.input, n);
    const image = new Uint8Array(memory.buffer, job.slot.output, n);
    const window = job.window ?? percentilesOf([{ data, dtype: job.dtype }], job.low!, job.high!);
    const simd = n - (n % 16);
    if (job.dtype === 'uint16' && kernel && simd > 0 && kernelMatches(window, job.range)) {
      kernel.map(job.slot.input, job.slot.output, simd, widen(window), job.range);
      if (simd < n) mapPixels(data.subarray(simd), job.dtype, window, image.subarray(simd), table, job.range);
    } else mapPixels(data, job.dtype, window, image, table, job.range);
    if (job.text) drawText(image, job.width, job.height, job.text, job.range);
    return { id: job.id };
  } catch (error) {
    return { id: job.id, error: error instanceof Error ? error.message : String(error) };
  }
}

/** True if the SIMD kernel maps every uint16 value under `window` as the lookup table does. */
function kernelMatches(window: readonly [number, number], range: GreySlotJob['range']): boolean {
  const key = `${widen(window).join(' ')} ${range}`;
  if (checked.key !== key) {
    checked.key = key;
    checked.ok = GreyWasm.matches(lookupTable('uint16', window, table, range)!, widen(window), range);
  }
  return checked.ok!;
}
