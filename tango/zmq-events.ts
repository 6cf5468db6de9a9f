/**
 * Tango events over ZeroMQ: subscription through the admin device's `ZmqEventSubscriptionChange`
 * command, then a SUB socket on the server's event endpoint. Each event is a multipart message
 * `[topic, byte order, ZmqCallInfo, data]`; the data of an attribute event is one
 * `AttributeValue_5` (after a 4-byte `c0dec0de` filler when present), or a `DevErrorList`
 * when the call info says the event is an exception.
 *
 * A subscription outlives the server: when the connection to it goes away (the server stopped
 * or restarted) or the admin device stops answering its keep-alive ping, the subscription is
 * made again, with back-off, until the server is back; a `'change'` subscription then starts
 * again with the current value.
 * @module
 */
import { Observable } from 'rxjs';
import * as zmq from 'zeromq';
import { CdrReader } from './cdr.js';
import { TangoError, TangoProtocolError, TangoTransportError } from './errors.js';
import { readAttributeValue, type AttributeReading } from './attribute-value.js';
import { TangoType, readDevErrors } from './idl-types.js';
import type { DeviceProxy } from './device-proxy.js';
import type { EventType } from './events.js';
import { Logger, errorMessage } from '../core/index.js';

/** Servers drop subscriptions not renewed within 600 s; renew well before. */
const RESUBSCRIBE_MS = 200_000;
/** Client IDL version announced to the server (selects `idl5_*` topics). */
const CLIENT_IDL = '5';
/** Default period of the keep-alive ping of the admin device. */
export const KEEP_ALIVE_MS = 10_000;
/** Back-off between attempts to subscribe again: first and largest delay. */
const RETRY_FIRST_MS = 200;
const RETRY_MAX_MS = 5_000;

/** Where the server publishes an event (reply of `ZmqEventSubscriptionChange`). */
export interface EventChannel {
  readonly heartbeatEndpoint: string;
  readonly eventEndpoint: string;
  readonly topic: string;
}

/** Options of {@link subscribeZmq}. */
export interface ZmqSubscribeOptions {
  /** Subscribe again after the server restarted (default true); false ends the stream with an error. */
  readonly reconnect?: boolean;
  /** Period in ms of the admin device ping that notices a server gone silent (default 10000). */
  readonly keepAliveMs?: number;
}

/** Asks the admin device to publish `type` events of `attribute`. */
export async function requestEvents(proxy: DeviceProxy, attribute: string, type: EventType): Promise<EventChannel> {
  const admin = await proxy.adminDevice();
  const reply = (await admin.command(
    'ZmqEventSubscriptionChange',
    [proxy.name, attribute, 'subscribe', type, CLIENT_IDL],
    TangoType.DevVarStringArray,
  )) as { svalue?: string[] };
  const [heartbeatEndpoint, eventEndpoint, topic] = reply.svalue ?? [];
  if (!heartbeatEndpoint || !eventEndpoint || !topic) {
    throw new TangoProtocolError(
      `${proxy.name}: unexpected reply to ZmqEventSubscriptionChange: ${JSON.stringify(reply.svalue)}`,
    );
  }
  return { heartbeatEndpoint, eventEndpoint, topic };
}

/**
 * Decodes one event message.
 * @throws TangoError for error events, TangoProtocolError for malformed messages.
 */
export function decodeEvent(frames: readonly Uint8Array[], device: string, what: string): AttributeReading {
  if (frames.length < 4)
    throw new TangoProtocolError(`${device}: ${what}: event message has ${frames.length} parts, expected 4`);
  const le = frames[1]![0] !== 0;
  try {
    const info = new CdrReader(frames[2]!, le);
    info.long(); // version
    info.ulong(); // counter
    info.string(); // method name
    info.octets(); // oid
    const isException = info.boolean();
    const data = frames[3]!;
    const filler = data.length >= 4 && data[0] === 0xc0 && data[1] === 0xde && data[2] === 0xc0 && data[3] === 0xde;
    const r = new CdrReader(data, le, filler ? 4 : 0, filler ? 4 : 0);
    if (isException) throw new TangoError(device, what, readDevErrors(r));
    const reading = readAttributeValue(r, 5);
    if (reading.errors.length) throw new TangoError(device, what, reading.errors);
    return reading;
  } catch (e) {
    if (e instanceof TangoError) throw e;
    throw new TangoProtocolError(`${device}: ${what}: bad event message: ${errorMessage(e)}`, { cause: e });
  }
}

/** A value, or the reason the subscription has to be made again. */
type Next = { frames: Uint8Array[] } | { lost: string } | { done: true };

/**
 * Subscribes over the server's ZeroMQ event channel. `'change'` starts with the current value
 * (read once, and again after each re-subscription), as Tango clients do.
 * @throws (as an Observable error) TangoError when the server refuses (e.g.
 *   `API_AttributePollingNotStarted`, `API_EventPropertiesNotSet`), when an event carries an
 *   error, or when the server refuses the subscription after a restart.
 */
export function subscribeZmq(
  proxy: DeviceProxy,
  attribute: string,
  type: EventType,
  options: ZmqSubscribeOptions = {},
): Observable<AttributeReading> {
  const reconnect = options.reconnect ?? true;
  const keepAliveMs = options.keepAliveMs ?? KEEP_ALIVE_MS;
  if (!(keepAliveMs >= 100 && keepAliveMs <= 2 ** 31 - 1))
    throw new RangeError(`keepAliveMs must be a number of ms in [100, ${2 ** 31 - 1}], got ${String(keepAliveMs)}`);
  const what = `${type} event of ${attribute}`;
  const log = new Logger(`tango ${proxy.name}`);
  return new Observable<AttributeReading>((subscriber) => {
    let closed = false;
    /** Ends the current session (a lost connection, or the unsubscription). */
    let endSession: ((why: string) => void) | undefined;
    /** Ends the back-off wait early (on unsubscription). */
    let wake: (() => void) | undefined;
    let retryTimer: NodeJS.Timeout | undefined;

    /** One subscription to the server, until the connection to it is lost. */
    const session = async (onSubscribed: () => void): Promise<string | undefined> => {
      const channel = await requestEvents(proxy, attribute, type);
      if (closed) return undefined;
      onSubscribed();
      const socket = new zmq.Subscriber();
      const lost = new Promise<string>((resolve) => (endSession = resolve));
      const offLost = proxy.onConnectionLost((why) => endSession?.(why));
      const renew = setInterval(() => {
        requestEvents(proxy, attribute, type).catch((e: unknown) => endSession?.(errorMessage(e)));
      }, RESUBSCRIBE_MS);
      const keepAlive = setInterval(() => {
        proxy
          .adminDevice()
          .then((admin) => admin.ping())
          .catch((e: unknown) => endSession?.(`keep-alive ping failed: ${errorMessage(e)}`));
      }, keepAliveMs);
      renew.unref();
      keepAlive.unref();
      try {
        socket.connect(channel.eventEndpoint);
        socket.subscribe(channel.topic);
        if (type === 'change') {
          const first = await Promise.race([proxy.readAttribute(attribute), lost]);
          if (closed) return undefined;
          if (typeof first === 'string') return first;
          subscriber.next(first);
        }
        const events = socket[Symbol.asyncIterator]();
        const lostNext = lost.then((why): Next => ({ lost: why }));
        for (;;) {
          const pending = events.next().then((r): Next => (r.done ? { done: true } : { frames: r.value }));
          pending.catch(() => undefined); // rejects when the socket closes under it
          const next = await Promise.race([pending, lostNext]);
          if (closed) return undefined;
          if ('lost' in next) return next.lost;
          if ('done' in next) return 'the event socket closed';
          subscriber.next(decodeEvent(next.frames, proxy.name, what));
        }
      } finally {
        endSession = undefined;
        offLost();
        clearInterval(renew);
        clearInterval(keepAlive);
        socket.close();
      }
    };

    const run = async (): Promise<void> => {
      let subscribed = false;
      let delay = RETRY_FIRST_MS;
      while (!closed) {
        try {
          const why = await session(() => {
            if (subscribed) log.info(`${what}: subscribed again`);
            subscribed = true;
            delay = RETRY_FIRST_MS;
          });
          if (closed || why === undefined) return;
          if (!reconnect) throw new TangoProtocolError(`${proxy.name}: ${what}: ${why}`);
          log.warn(`${what}: ${why}; subscribing again when the server is back`);
        } catch (e) {
          // Refusals (DevFailed), bad messages and failures of the first subscription end the
          // stream; a server that is not back yet (connection refused, timeouts) is tried again.
          if (closed || !subscribed || !reconnect || !(e instanceof TangoTransportError)) throw e;
          log.debug(`${what}: not subscribed yet: ${errorMessage(e)}`);
          await new Promise<void>((resolve) => {
            wake = resolve;
            retryTimer = setTimeout(resolve, delay);
          });
          delay = Math.min(2 * delay, RETRY_MAX_MS);
        }
      }
    };
    run().catch((e: unknown) => {
      if (!closed) subscriber.error(e);
    });
    return () => {
      closed = true;
      clearTimeout(retryTimer);
      endSession?.('unsubscribed');
      wake?.();
    };
  });
}
