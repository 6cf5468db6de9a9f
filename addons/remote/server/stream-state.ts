/**
 * The state machine of a stream server (writer, live, benchmarker, reco), explicit so that
 * every control request is checked against it in one synchronous step: two `stream.start` that
 * arrive together cannot both be accepted, and nothing changes the data socket under a stream.
 *
 * ```
 *  unconnected ──connect──► connecting ──ok──► ready ──stream.start──► opening ──ok──► streaming
 *       ▲                     │  ▲  fail        │ ▲                      │ fail          │ end/fail/cancel
 *       │                     ▼  └── (back to where it was)              ▼               ▼
 *       └──── disconnect ── ready ◄───────────── draining ◄── cancelled ─ closing ◄─────┘
 * ```
 * @module
 */
import { FSMError, TransitionNotAllowed } from '../../../core/index.js';

/** What a stream server is doing. */
export type StreamServerState =
  /** No data socket (a fresh server, or after `disconnect`). */
  | 'unconnected'
  /** `connect` is making a new data socket; the previous one (if any) still works until it exists. */
  | 'connecting'
  /** A data socket and no stream: `stream.start` is taken. */
  | 'ready'
  /** `stream.start` is opening what the stream goes to (files, a reconstruction). */
  | 'opening'
  /** Frames of the current stream are consumed. */
  | 'streaming'
  /** The stream ended (end marker, failure or cancel) and its sink is being closed. */
  | 'closing'
  /** After a cancelled stream without an id: discarding its rest until its end marker (or quiet). */
  | 'draining';

/** Every allowed transition. */
export const STREAM_SERVER_TRANSITIONS: Readonly<Record<StreamServerState, readonly StreamServerState[]>> = {
  unconnected: ['connecting'],
  connecting: ['ready', 'unconnected'],
  ready: ['connecting', 'opening', 'unconnected'],
  opening: ['streaming', 'ready'],
  streaming: ['closing'],
  closing: ['ready', 'draining'],
  draining: ['ready', 'opening', 'connecting', 'unconnected'],
};

/** Control requests that depend on the state, and where each is taken. */
export const STREAM_SERVER_COMMANDS = {
  connect: ['unconnected', 'ready', 'draining'],
  disconnect: ['unconnected', 'ready', 'draining'],
  'stream.start': ['ready', 'draining'],
} as const satisfies Record<string, readonly StreamServerState[]>;

export type StreamServerCommand = keyof typeof STREAM_SERVER_COMMANDS;

/** The state of one server; transitions are checked against {@link STREAM_SERVER_TRANSITIONS}. */
export class StreamStateMachine {
  #state: StreamServerState = 'unconnected';
  /** Name of the stream that makes the server busy (for messages). */
  stream: string | undefined;

  get state(): StreamServerState {
    return this.#state;
  }

  /**
   * Refuses `command` unless the current state takes it, with a message saying why.
   * @throws TransitionNotAllowed naming the state and what would be needed.
   */
  check(command: StreamServerCommand): void {
    const allowed: readonly StreamServerState[] = STREAM_SERVER_COMMANDS[command];
    if (allowed.includes(this.#state)) return;
    throw new TransitionNotAllowed(`${command} refused: ${this.#why()}`, this.#state);
  }

  /** Moves to `to`. @throws FSMError for a transition the table does not allow (a bug). */
  enter(to: StreamServerState): void {
    if (!STREAM_SERVER_TRANSITIONS[this.#state].includes(to))
      throw new FSMError(`stream server: no transition from '${this.#state}' to '${to}'`);
    this.#state = to;
  }

  #why(): string {
    const name = this.stream === undefined ? '' : ` '${this.stream}'`;
    switch (this.#state) {
      case 'unconnected':
        return "no data connection: call 'connect' first";
      case 'connecting':
        return 'the data socket is being connected';
      case 'opening':
      case 'streaming':
        return `stream${name} is still running; a server takes one stream at a time`;
      case 'closing':
        return `stream${name} is still closing`;
      default:
        return `the server is '${this.#state}'`;
    }
  }
}
