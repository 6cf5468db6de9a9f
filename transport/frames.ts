/**
 * Frame senders and receivers by endpoint: `tcp://` and `ipc://` go over ZeroMQ, `shm://` through
 * shared memory on one host. Both kinds have the same modes (lossless push/pull, latest-wins
 * pub/sub), end markers and errors, so servers take either.
 * @module
 */
import type { Frame } from '../core/frame.js';
import { OptionError } from '../core/errors.js';
import { isShmEndpoint, ShmReceiver, ShmSender, type ShmStreamOptions } from './shm/index.js';
import type { EndHeader } from './zmq/wire-format.js';
import {
  ZmqReceiver,
  ZmqSender,
  type ReceiverCounters,
  type EndOptions,
  type ReceiverMode,
  type SenderCounters,
  type SenderMode,
  type SendOptions,
  type ZmqReceiverOptions,
  type ZmqSenderOptions,
} from './zmq/index.js';

/** What sends frames: a {@link ZmqSender} or a {@link ShmSender}. */
export interface FrameSender {
  readonly mode: SenderMode;
  readonly endpoint: string;
  readonly counters: SenderCounters;
  readonly closed: boolean;
  send(frame: Frame, options?: SendOptions): Promise<boolean>;
  end(options?: EndOptions): Promise<void>;
  close(): void;
}

/** What receives frames: a {@link ZmqReceiver} or a {@link ShmReceiver}. */
export interface FrameReceiver {
  readonly mode: ReceiverMode;
  readonly endpoint: string;
  readonly counters: ReceiverCounters;
  /** The frames of one stream, returning its end marker; `borrow` only matters for shared memory (see {@link ShmStreamOptions.borrow}). */
  stream(options?: ShmStreamOptions): AsyncGenerator<Frame, EndHeader, undefined>;
  close(): void;
}

/** Options of {@link createReceiver}: those of {@link ZmqReceiver.create}, `onInvalid` and `onStray` without the receiver. */
export type FrameReceiverOptions = Omit<ZmqReceiverOptions, 'onInvalid' | 'onStray'> & {
  onInvalid?: (reason: string) => void;
  onStray?: (reason: string) => void;
};

/**
 * A sender for `options.bind` (or `connect`): shared memory for `shm://`, ZeroMQ otherwise.
 * Over shared memory `sendHighWaterMark` is the ring's slot count, and `curve` is not needed:
 * the data never leaves the host and only this user can read it.
 * @throws OptionError for a shared-memory sender that is asked to connect.
 */
export async function createSender(options: ZmqSenderOptions): Promise<FrameSender> {
  const endpoint = options.bind ?? options.connect;
  if (!isShmEndpoint(endpoint)) return ZmqSender.create(options);
  if (options.connect !== undefined)
    throw new OptionError(`${endpoint}: a shared-memory sender binds (the receiver connects); got connect`);
  return ShmSender.create({
    mode: options.mode,
    bind: endpoint,
    slots: options.sendHighWaterMark,
    sendTimeoutMs: options.sendTimeoutMs,
  });
}

/**
 * A receiver for `options.connect` (or `bind`): shared memory for `shm://`, ZeroMQ otherwise
 * (`curve` is not needed over shared memory, see {@link createSender}).
 * @throws OptionError for a shared-memory receiver that is asked to bind.
 */
export async function createReceiver(options: FrameReceiverOptions): Promise<FrameReceiver> {
  const endpoint = options.connect ?? options.bind;
  const { onInvalid, onStray } = options;
  if (!isShmEndpoint(endpoint))
    return ZmqReceiver.create({
      ...options,
      onInvalid: onInvalid && ((reason) => onInvalid(reason)),
      onStray: onStray && ((reason) => onStray(reason)),
    });
  if (options.bind !== undefined)
    throw new OptionError(`${endpoint}: a shared-memory receiver connects (the sender binds); got bind`);
  return ShmReceiver.create({
    mode: options.mode,
    connect: endpoint,
    maxFrameBytes: options.maxFrameBytes,
    onInvalid: onInvalid && ((reason) => onInvalid(reason)),
    onStray: onStray && ((reason) => onStray(reason)),
  });
}
