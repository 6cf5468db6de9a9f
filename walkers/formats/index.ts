/**
 * File formats of Concert's walkers: a streaming multi-page TIFF writer (classic and BigTIFF),
 * a writer that spreads a dataset across TIFF files, a TIFF reader, and a NeXus NXtomo HDF5
 * writer. Walkers (`DirectoryWalker`, …) choose the files; these classes write them.
 *
 * Crash safety: TIFF files are written as `<name>.partial` and renamed when closed; HDF5 files
 * carry `/entry@complete = 0` until closed. Failures reject with a {@link StorageError} that names
 * the file and the cause.
 *
 * @example
 * ```ts
 * import { MultiFileWriter, readTiff } from 'concert/walkers/formats';
 * const writer = await MultiFileWriter.open(dir, { pattern: 'frame_{:06}.tif', bytesPerFile: 0 });
 * await writer.write(frame);
 * await writer.close();
 * const [page] = await readTiff(writer.files[0]!);
 * ```
 * @module
 */
export { StorageError, storageError } from './errors.js';
export { TiffWriter, PARTIAL_SUFFIX, writeAll } from './tiff-writer.js';
export type { TiffWriterOptions } from './tiff-writer.js';
export { tiffDatasetSize, type DatasetSize, type DatasetSizeOptions, type FrameLike } from './tiff-layout.js';
export { MultiFileWriter } from './multi-file.js';
export type { MultiFileWriterOptions } from './multi-file.js';
export { parseNamePattern, formatFileName } from './name-pattern.js';
export type { NamePattern } from './name-pattern.js';
export { TiffReader, readTiff } from './tiff-reader.js';
export type { TiffPage } from './tiff-reader.js';
export { Hdf5Writer, IMAGE_KEY } from './hdf5-writer.js';
export type { Hdf5WriterOptions, ImageKey, NxTomoFrameInfo } from './hdf5-writer.js';
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
