/**
 * `concert set info FILE` and `concert set watch FILE`: what a streaming step's output set holds
 * (items, failures, state, rate), and its items as they land, read from its SQLite file while
 * another process writes it.
 * @module
 */
import { hostname } from 'node:os';
import { followSetFile } from '../../streaming/follow.js';
import { rateOf } from '../../streaming/output-set.js';
import { SetFile, type SetMeta, type StoredItem } from '../../streaming/set-file.js';

/** What `concert set info` reports (also its `--json` output). */
export interface SetInfo {
  file: string;
  name: string;
  step: string;
  input: string;
  state: 'open' | 'closed';
  items: number;
  done: number;
  failed: number;
  /** Items per second over the last 10 s of activity, and over the whole set. */
  rate: { recent: number; overall: number };
  close?: { reason: string; at: string; message: string };
  /** While open: the writing process, and whether it is still running. */
  writer?: { pid: number; host: string; running: boolean | undefined };
  /** When the newest item was registered (ISO time). */
  lastItemAt?: string;
}

/** Reads the summary of the set file at `path`. @throws StreamingError for a missing or foreign file. */
export function readSetInfo(path: string): SetInfo {
  const file = SetFile.openForReading(path);
  try {
    const meta = file.meta();
    const { items, failed } = file.counts();
    const times = file.finishTimes();
    const info: SetInfo = {
      file: file.path,
      name: meta.name,
      step: meta.step,
      input: meta.input,
      state: meta.state,
      items,
      done: items - failed,
      failed,
      rate: {
        recent: rateOf(times, 10_000),
        overall: times.length > 1 ? rateOf(times, Infinity) : 0,
      },
    };
    if (meta.close)
      info.close = {
        reason: meta.close.reason,
        at: new Date(meta.close.at).toISOString(),
        message: meta.close.message,
      };
    if (meta.writer)
      info.writer = {
        ...meta.writer,
        running: meta.writer.host === hostname() ? file.writerAlive() : undefined,
      };
    if (times.length > 0) info.lastItemAt = new Date(times[times.length - 1]!).toISOString();
    return info;
  } finally {
    file.close();
  }
}

function stateLine(info: SetInfo): string {
  if (info.state === 'closed') return `closed (${info.close!.message}) at ${info.close!.at}`;
  const w = info.writer;
  if (!w) return 'open';
  if (w.running === false)
    return `open, but its writer (process ${w.pid}) is gone: it crashed or was killed; start the step again to resume`;
  if (w.running === undefined) return `open (written by process ${w.pid} on ${w.host})`;
  return `open (written by process ${w.pid})`;
}

/** The human form of {@link SetInfo}. */
export function formatSetInfo(info: SetInfo): string {
  const rate = (r: number) => `${r.toFixed(r >= 100 ? 0 : 1)} items/s`;
  const lines = [
    `set '${info.name}' (${info.file})`,
    `  step:   ${info.step}, reading ${info.input}`,
    `  state:  ${stateLine(info)}`,
    `  items:  ${info.items} (${info.done} done, ${info.failed} failed)`,
    `  rate:   ${rate(info.rate.recent)} over the last 10 s, ${rate(info.rate.overall)} overall`,
  ];
  if (info.lastItemAt) lines.push(`  last:   ${info.lastItemAt}`);
  return lines.join('\n');
}

/** `concert set info FILE [--json]`. */
export async function setInfo(path: string, options: { json?: boolean } = {}): Promise<void> {
  const info = readSetInfo(path);
  process.stdout.write(options.json ? `${JSON.stringify(info, null, 2)}\n` : `${formatSetInfo(info)}\n`);
}

/** One line per item: `12  frame_000012.tif  done  3.1 ms` (failed items with their error). */
export function formatItem(item: StoredItem): string {
  const took = `${(item.finishedAt - item.startedAt).toFixed(1)} ms`;
  const status = item.status === 'done' ? 'done' : `FAILED: ${item.error ?? ''}`;
  return `${String(item.index).padStart(6)}  ${item.inputKey}  ${status}  ${took}`;
}

function closeLine(meta: SetMeta): string {
  return `closed: ${meta.close?.message ?? ''}`;
}

/**
 * `concert set watch FILE [--from N] [--json]`: prints the items as they land (from item N;
 * default: the last 10 already there) until the set closes, or until interrupted. Exits 1 if the
 * set closed because its step failed.
 */
export async function setWatch(path: string, options: { from?: string; json?: boolean } = {}): Promise<number> {
  const file = SetFile.openForReading(path);
  const controller = new AbortController();
  const stop = () => controller.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    let from: number;
    if (options.from === undefined) from = Math.max(0, file.counts().items - 10);
    else {
      from = Number(options.from);
      if (!Number.isInteger(from) || from < 0)
        throw new TypeError(`--from must be an item index ≥ 0, got ${JSON.stringify(options.from)}`);
    }
    const out = (line: string) => process.stdout.write(`${line}\n`);
    let meta: SetMeta | undefined;
    let first = true;
    for await (const update of followSetFile(file, { from, signal: controller.signal })) {
      meta = update.meta;
      if (first && !options.json) {
        const info = readSetInfo(path);
        out(`watching set '${info.name}' (${info.items} items; ${stateLine(info)})`);
      }
      first = false;
      for (const item of update.items) out(options.json ? JSON.stringify(item) : formatItem(item));
    }
    if (meta?.state === 'closed') {
      out(options.json ? JSON.stringify({ closed: meta.close }) : closeLine(meta));
      return meta.close?.reason === 'failed' ? 1 : 0;
    }
    return 0;
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    file.close();
  }
}
