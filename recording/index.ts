/**
 * Recordings: streams recorded into segmented logs (`.clog`, see `docs/recording.md`) — the
 * format's writer and reader, the start/stop segment logic, the stream recorder for ZeroMQ and
 * websocket sources, summaries and exports to movies and TIFF datasets.
 * @module
 */
export {
  LOG_MAGIC,
  LOG_FORMAT_VERSION,
  RecordKind,
  type LogHeader,
  type LogSource,
  type LogTrailer,
} from './log-format.js';
export { LogWriter, preciseNow, type LogWriterOptions, type LogCounters } from './log-writer.js';
export { LogReader, type LogRecord, type IndexEntry, type LogIndex, type LogEnding } from './log-reader.js';
export {
  SegmentRecorder,
  RecordingError,
  type SegmentResult,
  type StartOptions,
  type RecorderCounters,
} from './segments.js';
export { StreamRecorder, type StreamRecorderOptions } from './stream-recorder.js';
export { summarizeLog, formatSummary, measuredFps, type LogSummary } from './summary.js';
export { logToVideo, logToTiff, type LogToVideoOptions, type LogExport } from './export.js';
