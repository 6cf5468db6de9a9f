/**
 * The mapping thread's entry (see `mapping-thread.ts`): maps the pixels it is sent to 8-bit grey,
 * burns in the overlay text, and sends the image back with the pixel buffer (for reuse), both
 * transferred.
 * @module
 * @internal
 */
import { parentPort } from 'node:worker_threads';
import { mapPixels, percentilesOf, PIXEL_ARRAYS, type TableCache } from './grey-kernel.js';
import type { GreyJob, GreyReply } from './mapping-thread.js';
import { drawText } from './overlay.js';

const port = parentPort!;
const table: TableCache = {};

port.on('message', (job: GreyJob) => {
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
