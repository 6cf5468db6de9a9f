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
  LogWriter,
  LogReader,
  preciseNow,
  type LogHeader,
  type LogSource,
  type LogTrailer,
  type LogWriterOptions,
  type LogCounters,
  type LogRecord,
  type IndexEntry,
  type LogIndex,
  type LogEnding,
} from '../walkers/formats/index.js';
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
