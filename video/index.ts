/**
 * Movies and images from frames: ffmpeg (found through `FFMPEG_PATH` or the binary shipped with
 * `@ffmpeg-installer/ffmpeg`), the contrast that maps any dtype to 8-bit grey, a streaming
 * `MovieEncoder`, and Brayns' two-step workflow `exportFrames` → `makeMovie`. See `docs/video.md`.
 * @module
 */
export { FfmpegError, VideoError } from './errors.js';
export {
  locateFfmpeg,
  FfmpegProcess,
  runFfmpeg,
  countVideoFrames,
  type FfmpegBinary,
  type FfmpegOptions,
} from './ffmpeg.js';
export {
  AUTO_CONTRAST,
  ContrastMapper,
  parseContrast,
  parseContrastArgument,
  percentiles,
  mapPixel,
  type Contrast,
  type ContrastSpec,
} from './contrast.js';
export { overlayText, drawText, type OverlayField } from './overlay.js';
export {
  MOVIE_OPTIONS,
  X264_PRESETS,
  parseSize,
  resolveMovieOptions,
  type MovieOptions,
  type ResolvedMovieOptions,
  type X264Preset,
} from './movie-options.js';
export {
  encodeMovie,
  MovieEncoder,
  MOVIE_PARTIAL_SUFFIX,
  type MovieEncoderOptions,
  type MovieResult,
} from './movie-encoder.js';
export {
  listFrameFiles,
  countTiffFrames,
  readTiffFrames,
  naturalCompare,
  type FrameFiles,
  type FrameFileKind,
} from './frame-files.js';
export { makeMovie, type MakeMovieOptions, type MakeMovieResult } from './make-movie.js';
export {
  exportFrames,
  exportedFileName,
  FrameExporter,
  type ExportFormat,
  type ExportFramesOptions,
  type ExportResult,
  type FrameSource,
} from './export-frames.js';
