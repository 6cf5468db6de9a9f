/**
 * The control protocol between the session and remote servers (addon servers and camera
 * servers), as JSON request/reply over the transport's control channel.
 *
 * Every server answers:
 * - `status` → {@link ServerStatus}
 * - `connect` `{endpoint, mode}` → connects its data socket to a (binding) sender
 * - `disconnect` → closes the data socket
 * - `stream.start` `{name}` → starts consuming one stream (refused while one runs)
 * - `stream.status` → {@link StreamStatus} (clients poll it; a server that stops answering is dead)
 * - `stream.cancel` → drops the running stream (reads and discards up to its end marker)
 * - `get` `{name}` / `set` `{name, value}` → server parameters
 * @module
 */

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
  /** Valid frames received in this stream. */
  frames: number;
  bytes: number;
  /** Malformed messages dropped in this stream. */
  invalid: number;
  /** The error of a failed stream. */
  error?: { name: string; message: string };
}

/** What `status` answers. */
export interface ServerStatus {
  kind: ServerKind;
  pid: number;
  /** Where the data socket is connected (or bound). */
  data: string | undefined;
  stream: StreamStatus;
  /** Counters over the server's lifetime. */
  totals: { streams: number; frames: number; invalid: number; errors: number };
  /** Server-specific values (bytes written, fps, …). */
  extra?: Record<string, unknown>;
}

/** How often clients poll a running stream, and how long a poll may take before the server counts as dead. */
export const POLL_INTERVAL_MS = 100;
export const DEFAULT_SERVER_TIMEOUT_MS = 3000;
