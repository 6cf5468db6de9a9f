/**
 * The commands a conductor sends to camera servers (added to their control channel by
 * `conductor/host/`; see docs/remote.md), and what they answer.
 * @module
 */
import type { TriggerSource } from '../devices/cameras/index.js';

/** `conductor.attach`: a conductor takes the camera; its logs and heartbeats go to `events`. */
export interface AttachParams {
  /** The camera's name in the conductor's configuration (tags its log lines). */
  name: string;
  /** The conductor's SUB endpoint the camera server connects its PUB to. */
  events: string;
  /** Heartbeat period in ms (default 250). */
  heartbeatMs?: number;
}

/** What `conductor.attach` answers. */
export interface AttachResult {
  host: string;
  pid: number;
  /** The camera's kind (`Camera`, `FfmpegCamera`, …) and parameter names. */
  kind: string;
  parameters: string[];
  versions: Record<string, string>;
  /** The recording the server is running (a conductor before this one started it), if any. */
  recording?: RecordingStatus;
}

/** How frames are stored on the camera host. */
export type StorageFormat = 'tiff' | 'mp4';

/**
 * `acquisition.arm` (everything but `startAt`): prepares the recording. `acquisition.start` then
 * takes `{ startAt }`; given all of these, it arms and starts in one step.
 */
export interface StartParams {
  /** The camera's name (its folder in the acquisition). */
  camera: string;
  acquisitionName: string;
  /** Folder above the acquisition ('' for none). */
  group: string;
  /** Where recordings go on this host (relative: inside the server's root). */
  dataPath: string;
  saveData: boolean;
  format: StorageFormat;
  /** The server ends the recording by itself after this many seconds (0: never). */
  maxAcquisitionTime: number;
  /** Frames per second (paces SOFTWARE triggers; finds dropped frames). */
  frameRate: number;
  triggerSource: TriggerSource;
  /** Start at this time of the host's clock (ms since the epoch), so all cameras start together. */
  startAt?: number;
  /** The camera's configuration, for metadata.json. */
  settings: Record<string, unknown>;
  /** Who asked: host, pid, configuration source. */
  conductor?: Record<string, unknown>;
}

/** When a camera started: what {@link StartResult} says about timing. */
export interface StartTiming {
  /** When the camera started recording, host clock (ms since the epoch). */
  startedAt: number;
  /**
   * How late the server woke for the instant asked for (`startAt`), ms (0: on time): the start
   * request came late, or the server got no core at the instant.
   */
  lateMs: number;
  /** When the server's wait for `startAt` ended, host clock (ms since the epoch). */
  wokeAt?: number;
  /**
   * The camera's own timestamp of its first frame (`timestampUs` when the camera gives it, else
   * `timestamp`), host clock (ms since the epoch); absent with
   * an EXTERNAL trigger, or when no frame came within a short wait.
   */
  firstFrameAt?: number;
}

/** What `acquisition.arm` answers once the files are prepared. */
export interface ArmResult {
  /** The camera's folder on the host ('' when saveData is false). */
  directory: string;
  host: string;
}

/** What `acquisition.start` answers once the camera records (and its first frame came). */
export interface StartResult extends StartTiming, ArmResult {}

/** The states of a recording on a camera host. */
export type RecordingState = 'idle' | 'armed' | 'recording' | 'stopping' | 'done' | 'failed';

/** Why a recording ended. */
export type StopReason = 'stopped' | 'maxAcquisitionTime' | 'failed' | 'server stopped' | 'disarmed';

/** `acquisition.status` and heartbeats. */
export interface RecordingStatus {
  state: RecordingState;
  acquisition?: string;
  /** Frames recorded (stored, or counted when saveData is false). */
  frames: number;
  /** Frames lost: gaps in the camera's timing, or frames the storage could not take in time. */
  drops: number;
  /** Frames per second over the last second. */
  fps: number;
  /** Seconds since the recording started. */
  elapsed: number;
  startedAt?: number;
  /** The camera's timestamp of the first frame, host clock (ms since the epoch). */
  firstFrameAt?: number;
  stoppedAt?: number;
  reason?: StopReason;
  error?: string;
  directory?: string;
}

/** What `acquisition.stop` answers once every file is closed. */
export interface RecordingSummary extends RecordingStatus {
  /** The files written (final names), relative to `directory`. */
  files: string[];
  bytes: number;
  /** Every frame stored and every file closed. */
  complete: boolean;
}

/** A heartbeat (topic `status`). */
export interface Heartbeat extends RecordingStatus {
  camera: string;
  pid: number;
}

/** A log line (topic `log`). */
export interface LogEvent {
  camera: string;
  level: 'debug' | 'info' | 'warn' | 'error';
  source: string;
  message: string;
  /** ms since the epoch, host clock. */
  time: number;
}
