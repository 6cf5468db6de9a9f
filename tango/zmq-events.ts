/**
 * Tango events over ZeroMQ: subscription through the admin device's `ZmqEventSubscriptionChange`
 * command, then a SUB socket on the server's event endpoint. Each event is a multipart message
 * `[topic, byte order, ZmqCallInfo, data]`; the data of an attribute event is one
 * `AttributeValue_5` (after a 4-byte `c0dec0de` filler when present), or a `DevErrorList`
 * when the call info says the event is an exception.
 * @module
 */
import { Observable } from 'rxjs';
import * as zmq from 'zeromq';
import { CdrReader } from './cdr.js';
import { TangoError, TangoProtocolError } from './errors.js';
import { readAttributeValue, type AttributeReading } from './attribute-value.js';
import { TangoType, readDevErrors } from './idl-types.js';
import type { DeviceProxy } from './device-proxy.js';
import type { EventType } from './events.js';
import { errorMessage } from '../core/index.js';

/** Servers drop subscriptions not renewed within 600 s; renew well before. */
const RESUBSCRIBE_MS = 200_000;
/** Client IDL version announced to the server (selects `idl5_*` topics). */
const CLIENT_IDL = '5';

/** Where the server publishes an event (reply of `ZmqEventSubscriptionChange`). */
export interface EventChannel {
  readonly heartbeatEndpoint: string;
  readonly eventEndpoint: string;
  readonly topic: string;
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

/**
 * Subscribes over the server's ZeroMQ event channel. `'change'` starts with the current value
 * (read once), as Tango clients do.
 * @throws (as an Observable error) TangoError when the server refuses (e.g.
 *   `API_AttributePollingNotStarted`, `API_EventPropertiesNotSet`).
 */
export function subscribeZmq(proxy: DeviceProxy, attribute: string, type: EventType): Observable<AttributeReading> {
  return new Observable<AttributeReading>((subscriber) => {
    let closed = false;
    let socket: zmq.Subscriber | undefined;
    let renew: NodeJS.Timeout | undefined;
    const what = `${type} event of ${attribute}`;
    const run = async (): Promise<void> => {
      const channel = await requestEvents(proxy, attribute, type);
      if (closed) return;
      socket = new zmq.Subscriber();
      socket.connect(channel.eventEndpoint);
      socket.subscribe(channel.topic);
      renew = setInterval(() => {
        requestEvents(proxy, attribute, type).catch(() => undefined);
      }, RESUBSCRIBE_MS);
      renew.unref();
      if (type === 'change') {
        const first = await proxy.readAttribute(attribute);
        if (closed) return;
        subscriber.next(first);
      }
      for await (const frames of socket) {
        if (closed) return;
        subscriber.next(decodeEvent(frames, proxy.name, what));
      }
    };
    run().catch((e: unknown) => {
      if (!closed) subscriber.error(e);
    });
    return () => {
      closed = true;
      clearInterval(renew);
      socket?.close();
    };
  });
}
