/**
 * What a recording holds (`concert recording info`): records, frames, shapes and dtypes, duration,
 * the frame rate measured from receive times, and whether it was cut short.
 * @module
 */
import { isDType } from '../core/index.js';
import type { LogHeader } from '../walkers/formats/index.js';
import { LogReader, type LogEnding, type LogIndex } from '../walkers/formats/index.js';

/** A recording's summary. */
export interface LogSummary {
  path: string;
  header: LogHeader;
  bytes: number;
  records: number;
  frames: number;
  /** End-of-stream markers. */
  ends: number;
  /** Websocket messages. */
  texts: number;
  binaries: number;
  /** Distinct frame shapes and dtypes, e.g. `['2048x2048 uint16']`. */
  formats: string[];
  /** Acquisitions the frames came from (frames recorded from local acquisitions carry the name). */
  acquisitions: string[];
  /** Receive time of the first and the last record, ms since the epoch. */
  first: number | undefined;
  last: number | undefined;
  /** Seconds from the first to the last record. */
  durationS: number;
  /** Frames per second from the receive times of the frames (undefined with fewer than 2). */
  fps: number | undefined;
  ending: LogEnding;
}

/** The measured frame rate of an index: (frames − 1) over the time from the first to the last frame. */
export function measuredFps(index: LogIndex): number | undefined {
  const frames = index.frames;
  if (frames.length < 2) return undefined;
  const seconds = (frames[frames.length - 1]!.receivedAt - frames[0]!.receivedAt) / 1000;
  return seconds > 0 ? (frames.length - 1) / seconds : undefined;
}

/**
 * Summarises the recording at `path` (reads the record heads, not the pixels).
 * @throws StorageError if it is not a readable recording.
 */
export async function summarizeLog(path: string): Promise<LogSummary> {
  const reader = await LogReader.open(path);
  try {
    const index = await reader.index();
    const formats = new Set<string>();
    const acquisitions = new Set<string>();
    for (const f of index.frames) {
      const { shape, dtype, acquisition } = f.header ?? {};
      if (Array.isArray(shape) && typeof dtype === 'string')
        formats.add(`${shape[1]}x${shape[0]} ${isDType(dtype) ? dtype : String(dtype)}`);
      if (typeof acquisition === 'string') acquisitions.add(acquisition);
    }
    const count = (kind: string) => index.entries.filter((e) => e.kind === kind).length;
    const first = index.entries[0]?.receivedAt;
    const last = index.entries[index.entries.length - 1]?.receivedAt;
    return {
      path,
      header: reader.header,
      bytes: index.bytes,
      records: index.entries.length,
      frames: index.frames.length,
      ends: count('end'),
      texts: count('text'),
      binaries: count('binary'),
      formats: [...formats],
      acquisitions: [...acquisitions],
      first,
      last,
      durationS: first !== undefined && last !== undefined ? (last - first) / 1000 : 0,
      fps: measuredFps(index),
      ending: index.ending,
    };
  } finally {
    await reader.close();
  }
}

/** The summary as the lines `concert recording info` prints. */
export function formatSummary(s: LogSummary): string {
  const mb = (s.bytes / 1e6).toFixed(s.bytes < 1e7 ? 2 : 0);
  const lines = [
    `${s.path}: Concert recording, ${mb} MB`,
    `  source      ${s.header.source.kind} ${s.header.source.description}`,
    `  started     ${s.header.startTimeIso}`,
    `  records     ${s.records} (${s.frames} frames, ${s.ends} stream ends` +
      `${s.texts + s.binaries ? `, ${s.texts} text and ${s.binaries} binary messages` : ''})`,
  ];
  if (s.frames)
    lines.push(
      `  frames      ${s.formats.join(', ')}${s.acquisitions.length ? ` from ${s.acquisitions.join(', ')}` : ''}`,
    );
  lines.push(`  duration    ${s.durationS.toFixed(3)} s`);
  if (s.fps !== undefined) lines.push(`  frame rate  ${s.fps.toFixed(2)} fps (measured from receive times)`);
  lines.push(
    s.ending.complete
      ? '  ending      complete (closed cleanly)'
      : `  ending      cut short at byte ${s.ending.cutShort?.offset}: ${s.ending.cutShort?.reason}; everything before it is readable`,
  );
  return lines.join('\n');
}
