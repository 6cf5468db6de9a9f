/**
 * The doorbell of a shared-memory stream: one JSON object per line over a Unix socket. The pixels
 * travel in the ring; these messages say which slot holds which frame and when a slot is free.
 *
 * sender → receiver: `hello`, `ring` (map this ring), `frame` (slot, sequence number, the frame's
 * JSON header, with its stream id), `end` (with the stream id and frame count), `refused` (a reason, then the sender hangs up).
 * receiver → sender: `mapped` (ring id), `release` (slot).
 * @module
 * @internal
 */
import type { Socket } from 'node:net';

/** Version of the doorbell protocol (in `hello`). */
export const SHM_PROTOCOL_VERSION = 1;

/** A message of either side. */
export type ShmMessage =
  | { t: 'hello'; version: number; pid: number; mode: 'push' | 'pub' }
  | { t: 'ring'; name: string; id: string; slots: number; slotBytes: number }
  | { t: 'frame'; seq: number; slot: number; header: Record<string, unknown> }
  | { t: 'end'; seq: number; stream?: string; frames?: number }
  | { t: 'refused'; reason: string }
  | { t: 'mapped'; id: string }
  | { t: 'release'; slot: number };

/** Longest line accepted (a frame header is at most 64 KiB of JSON). */
const MAX_LINE = 1 << 20;

/** Reads and writes JSON lines on a socket. */
export class Channel {
  readonly socket: Socket;
  #pending = '';
  #closed = false;

  /**
   * @param onMessage every parsed message (not validated beyond being a JSON object with `t`).
   * @param onClose once, when the socket closes; with a reason when the peer broke the protocol.
   */
  constructor(socket: Socket, onMessage: (m: ShmMessage) => void, onClose: (reason?: string) => void) {
    this.socket = socket;
    socket.setEncoding('utf8');
    socket.setNoDelay?.(true);
    let reason: string | undefined;
    socket.on('data', (chunk: string) => {
      this.#pending += chunk;
      let newline = this.#pending.indexOf('\n');
      while (newline >= 0 && !this.#closed) {
        const line = this.#pending.slice(0, newline);
        this.#pending = this.#pending.slice(newline + 1);
        let message: unknown;
        try {
          message = JSON.parse(line);
        } catch {
          message = undefined;
        }
        if (typeof message !== 'object' || message === null || typeof (message as { t?: unknown }).t !== 'string') {
          reason = `the peer sent a line that is not a message: ${JSON.stringify(line.slice(0, 80))}`;
          this.close();
          return;
        }
        onMessage(message as ShmMessage);
        newline = this.#pending.indexOf('\n');
      }
      if (this.#pending.length > MAX_LINE) {
        reason = `the peer sent a line longer than ${MAX_LINE} bytes`;
        this.close();
      }
    });
    socket.on('error', () => undefined); // 'close' follows
    socket.on('close', () => {
      this.#closed = true;
      onClose(reason);
    });
  }

  /** True once the socket is closed (or closing). */
  get closed(): boolean {
    return this.#closed || this.socket.destroyed;
  }

  /** Sends a message (or a line already serialised, ending in a newline). */
  send(message: ShmMessage | string): void {
    if (this.closed) return;
    this.socket.write(typeof message === 'string' ? message : `${JSON.stringify(message)}\n`);
  }

  /** Hangs up after what was sent so far. */
  end(): void {
    this.socket.end();
  }

  /** Closes the socket at once. */
  close(): void {
    this.#closed = true;
    this.socket.destroy();
  }
}
