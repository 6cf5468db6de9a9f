/**
 * The control protocol between the session and remote servers (addon servers and camera
 * servers), as JSON request/reply over the transport's control channel.
 *
 * Every stream server answers:
 * - `status` → {@link ServerStatus}
 * - `connect` `{endpoint, mode}` → connects its data socket to a (binding) sender; the previous
 *   socket keeps working until the new one exists (a bad endpoint changes nothing)
 * - `disconnect` → cancels a running stream and closes the data socket
 * - `stream.start` `{name, id?}` → starts consuming one stream (refused while one runs); with
 *   `id`, frames and end markers tagged with another stream id are strays: counted and dropped
 * - `stream.status` → {@link StreamStatus} (clients poll it; a server that stops answering is dead)
 * - `stream.cancel` `{id?}` → drops the running stream (only if it is stream `id`, when given)
 * @module
 */
import type { StreamServerState } from './server/stream-state.js';

/** Server kinds `concert serve` starts. */
export const SERVER_KINDS = ['writer', 'live', 'benchmarker', 'camera', 'reco'] as const;
export type ServerKind = (typeof SERVER_KINDS)[number];

/** How a server's data socket takes frames: lossless PULL or latest-wins SUB. */
export type DataMode = 'pull' | 'sub';

/** One stream's progress on a server. */
export interface StreamStatus {
  /** `idle`: no stream yet; `running`; `done`: end marker received; `failed`; `cancelled`. */
  state: 'idle' | 'running' | 'done' | 'failed' | 'cancelled';
  name: string | undefined;
  /** The stream id given to `stream.start` (the camera tags the stream's frames with it). */
  id?: string;
  /** Valid frames received in this stream. */
  frames: number;
  bytes: number;
  /** Malformed messages dropped in this stream. */
  invalid: number;
  /** Frames and end markers of other streams dropped while this one ran. */
  stray: number;
  /** How many frames the sender said it sent (from the end marker), when it said so. */
  expected?: number;
  /** The error of a failed stream. */
  error?: { name: string; message: string };
}

/** What `status` answers. */
export interface ServerStatus {
  kind: ServerKind;
  pid: number;
  /** What the server is doing (see `server/stream-state.ts`). */
  state: StreamServerState;
  /** Where the data socket is connected (or bound). */
  data: string | undefined;
  stream: StreamStatus;
  /** Counters over the server's lifetime. */
  totals: { streams: number; frames: number; invalid: number; stray: number; errors: number };
  /** The server process's memory (bytes). */
  memory: { rss: number; heapUsed: number };
  /** Server-specific values (bytes written, fps, …). */
  extra?: Record<string, unknown>;
}

/** How often clients poll a running stream, and how long a poll may take before the server counts as dead. */
export const POLL_INTERVAL_MS = 100;
export const DEFAULT_SERVER_TIMEOUT_MS = 3000;
