/**
 * Backprojection worker: waits on the arena's control block, backprojects every queued
 * projection into its band of slice rows (all slices), and publishes how far it got. When
 * configured with a filter, it first filters its share of the queued corrected rows (see
 * `filter-stage.ts`).
 * Started by {@link ParallelBackprojector}; not an entry point of its own.
 * @module
 * @internal
 */
import { parentPort } from 'node:worker_threads';
import { Atomics } from './atomics.js';
import type { ArenaLayout, KernelName } from './batch.js';
import { BATCH, CTRL, GROUP, arenaViews, batchCount, runBatch } from './batch.js';
import type { FilterSpec } from './filter-stage.js';
import { FilterStage } from './filter-stage.js';
import type { WasmKernel } from './wasm-kernel.js';
import { instantiateKernel } from './wasm-kernel.js';

/** What the main thread sends. @internal */
export interface ConfigureMessage {
  type: 'configure';
  buffer: SharedArrayBuffer;
  memory: WebAssembly.Memory | undefined;
  layout: ArenaLayout;
  kernel: KernelName;
  index: number;
  /** Number of workers sharing the arena. */
  workers: number;
  rowFrom: number;
  rowTo: number;
  /** Filter the queued corrected rows here (absent: the rows arrive filtered). */
  filter: FilterSpec | undefined;
}

/** Passes over the whole band run on the fresh (zero) ring before the first scan (the wasm kernel tiers up)… */
const WARM_UP_PASSES = 4;
/** …and one-row passes, cheap, so that runBatch is called often enough to be optimised before the scan too. */
const WARM_UP_CALLS = 48;
let warm = false;

function serve(m: ConfigureMessage): void {
  const views = arenaViews(m.buffer, m.layout);
  const kernel: WasmKernel | undefined =
    m.kernel === 'wasm' && m.memory !== undefined ? instantiateKernel(m.memory) : undefined;
  const { control } = views;
  const stage = m.filter && new FilterStage(m.layout, views, m.buffer, m.filter);
  const ring = m.layout.ring;
  let seq = Atomics.load(control, CTRL.done + m.index);
  if (!warm) {
    // The ring's rows are still zeros: adding them leaves the slices at zero, and the kernel
    // (and runBatch) get optimised now instead of during the first scan.
    for (let p = 0; p < WARM_UP_PASSES; p++) runBatch(m.layout, views, kernel, 0, GROUP, m.rowFrom, m.rowTo);
    const rowTo = Math.min(m.rowTo, m.rowFrom + 1);
    for (let p = 0; p < WARM_UP_CALLS; p++)
      runBatch(m.layout, views, kernel, 0, Math.min(ring, BATCH), m.rowFrom, rowTo);
    warm = true;
  }
  parentPort!.postMessage({ type: 'ready' });
  for (;;) {
    const wake = Atomics.load(control, CTRL.wake);
    const head = Atomics.load(control, CTRL.head);
    const flushing = Atomics.load(control, CTRL.flush) > seq;
    const count = batchCount(head, seq, ring, flushing);
    // Filter first what is queued (the others wait for it too), then backproject; a worker behind
    // another filters only what its next batch needs and leaves the rest to those ahead.
    if (stage?.claim(behind(control, m, seq) ? Math.min(head, seq + count) : head)) continue;
    if (count > 0) {
      if (stage && !stage.ready(seq, count)) {
        stage.wait(seq, count); // the other worker is filtering part of the batch
        continue;
      }
      const slot = seq % ring;
      runBatch(m.layout, views, kernel, slot, count, m.rowFrom, m.rowTo);
      seq += count;
      Atomics.store(control, CTRL.done + m.index, seq);
      Atomics.notify(control, CTRL.done + m.index);
      continue;
    }
    if (Atomics.load(control, CTRL.stop) !== 0) break;
    Atomics.wait(control, CTRL.wake, wake);
  }
  parentPort!.postMessage({ type: 'stopped' });
}

/** True if another worker has backprojected more than `seq` projections. */
function behind(control: Int32Array, m: ConfigureMessage, seq: number): boolean {
  for (let i = 0; i < m.workers; i++) if (i !== m.index && Atomics.load(control, CTRL.done + i) > seq) return true;
  return false;
}

parentPort!.on('message', (m: ConfigureMessage) => serve(m));
