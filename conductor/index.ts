/**
 * A camera colony: one {@link Conductor} records with many remote camera servers from one
 * validated configuration file (TOML, YAML or JSON; RCC's ConfigObj files converted), each camera
 * server recording on its own host. See docs/conductor.md.
 * @module
 */
export {
  Conductor,
  CONDUCTOR_OPTIONS,
  type ConductorOptions,
  type ConductorState,
  type ConductorStatus,
  type CameraStatus,
  type StartReport,
  type CameraSummary,
  type AcquisitionSummary,
  type ConductorEvent,
} from './conductor.js';
export { ConfigError, ConductorError, formatViolations } from './errors.js';
export {
  CONDUCTOR_CONFIG,
  CAMERA_CONFIG,
  BACKEND_SETTINGS,
  MAX_ACQUISITION_TIME_S,
  MAX_FRAME_RATE_HZ,
  resolveCamera,
  acquisitionGroupOf,
  crossCheck,
  type ConductorConfig,
  type ConductorConfigInput,
  type CameraConfig,
  type ResolvedCamera,
  type Violation,
} from './config/schema.js';
export {
  loadConfig,
  validateConfig,
  configViolations,
  parseConfigText,
  configFormatOf,
  type ConfigFormat,
} from './config/load.js';
export { parseConfigObj, type ConfigObjSection } from './config/configobj.js';
export { convertRcc, convertRccText, rccToToml, type RccConvertOptions, type RccConversion } from './config/rcc.js';
export { readAcquisitionData, type AcquisitionData, type CameraData, type TimestampRow } from './read.js';
export { AcquisitionRecorder, type RecorderOptions } from './host/recorder.js';
export type * from './protocol.js';
