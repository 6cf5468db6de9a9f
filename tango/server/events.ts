/**
 * Tango events over ZeroMQ, server side: the heartbeat and event PUB sockets of a device server,
 * the subscriptions clients make through the admin device (`ZmqEventSubscriptionChange`, renewed
 * by `EventConfirmSubscription`, dropped after 600 s without renewal), and the messages Tango 9
 * clients decode: `[topic, byte order, ZmqCallInfo, data]` (data: `c0dec0de` + AttributeValue_5,
 * or a DevErrorList for error events) and a heartbeat `[topic, byte order, ZmqCallInfo]` every 9 s.
 * @module
 */
import * as zmq from 'zeromq';
import { CdrWriter } from '../cdr.js';
import type { DevError } from '../errors.js';
import { writeDevErrors } from '../idl-writers.js';
import { Logger, errorMessage } from '../../core/index.js';
import { writeAttributeValue, type OutgoingValue } from './attribute-io.js';

/** Tango library release the server claims (9.3.4: the topic and channel names of 9.3 servers). */
export const TANGO_LIB_RELEASE = 934;
/** Servers drop subscriptions not renewed for this long. */
const SUBSCRIPTION_LIFETIME_MS = 600_000;
/** Tango servers send a heartbeat every 9 s; clients give up after about 10 s without one. */
const HEARTBEAT_MS = 9_000;
const FILLER = Uint8Array.of(0xc0, 0xde, 0xc0, 0xde);

/** Event kinds a client may subscribe to. */
export const EVENT_KINDS = [
  'change',
  'periodic',
  'archive',
  'user_event',
  'attr_conf',
  'data_ready',
  'intr_change',
] as const;
export type EventKind = (typeof EVENT_KINDS)[number];

/** What `ZmqEventSubscriptionChange` answers a subscription. */
export interface SubscriptionReply {
  readonly lvalue: number[];
  readonly svalue: string[];
}

/** Options of {@link EventPublisher.create}. */
export interface EventPublisherOptions {
  /** Address to bind the PUB sockets to (the device server's). */
  bind: string;
  /** Topic prefix: `tango://host:port/` (no database) or `tango://dbhost:dbport/`. */
  prefix: string;
  /** `#dbase=no` without a database, else ''. */
  modifier: string;
  /** Admin device name (`dserver/walker/name`). */
  adminName: string;
  /** Who may subscribe (see {@link EventSecurity}; default: everyone who can connect). */
  security?: EventSecurity;
}

/** What the event sockets need of an allow-list (`AllowList` of concert/transport is one). */
export interface EventAllowList {
  readonly domain: string;
  /** Rebinds `endpoint` of `socket` when a key is revoked (its connections dropped). */
  rebindOnRevoke(socket: zmq.Socket, endpoint: string): void;
}

/**
 * Who may connect to a device server's event sockets, through the process's ZAP handler:
 * standard Tango clients (PyTango) use the NULL mechanism, so without `curveSecretKey` only the
 * addresses of `allow` (an `AllowList.addresses(...)`) are accepted; with `curveSecretKey` the
 * sockets are CURVE servers and only the keys of `allow` (an `AllowList.open(dir, …)`) are
 * accepted (our own subscribers). Refusals are logged with the client's address (and key).
 */
export interface EventSecurity {
  /** An `AllowList` of concert/transport (its ZAP domain, and how it reports revoked keys). */
  readonly allow: EventAllowList;
  /** The server's CURVE secret key (Z85): the event sockets become CURVE servers. */
  readonly curveSecretKey?: string;
}

/** The two PUB sockets of a device server and its subscriptions. */
export class EventPublisher {
  readonly log = new Logger('tango events');
  readonly #heartbeat: zmq.Publisher;
  readonly #event: zmq.Publisher;
  readonly #options: EventPublisherOptions;
  readonly #subscriptions = new Map<string, { topic: string; idl: number; renewed: number }>();
  readonly #counters = new Map<string, number>();
  #timer: NodeJS.Timeout | undefined;
  #heartbeatCounter = 0;
  #closed = false;
  heartbeatEndpoint = '';
  eventEndpoint = '';

  private constructor(options: EventPublisherOptions) {
    this.#options = options;
    this.#heartbeat = new zmq.Publisher({ linger: 0 });
    this.#event = new zmq.Publisher({ linger: 0, sendHighWaterMark: 10000 });
    const security = options.security;
    if (security)
      for (const socket of [this.#heartbeat, this.#event]) {
        if (security.curveSecretKey !== undefined) {
          socket.curveServer = true;
          socket.curveSecretKey = security.curveSecretKey;
        }
        socket.zapDomain = security.allow.domain;
      }
  }

  /** Binds the PUB sockets on free ports and starts the heartbeat. */
  static async create(options: EventPublisherOptions): Promise<EventPublisher> {
    const p = new EventPublisher(options);
    try {
      await p.#heartbeat.bind(`tcp://${options.bind}:*`);
      await p.#event.bind(`tcp://${options.bind}:*`);
    } catch (e) {
      p.close();
      throw e;
    }
    p.heartbeatEndpoint = p.#heartbeat.lastEndpoint!;
    p.eventEndpoint = p.#event.lastEndpoint!;
    // A revoked key's subscriber is dropped: every subscriber passes the check again.
    const allow = options.security?.allow;
    allow?.rebindOnRevoke(p.#heartbeat, p.heartbeatEndpoint);
    allow?.rebindOnRevoke(p.#event, p.eventEndpoint);
    p.#timer = setInterval(() => p.#beat(), HEARTBEAT_MS);
    p.#timer.unref();
    p.#beat();
    return p;
  }

  /** The heartbeat's channel name clients get (`tango://host:port/dserver/server/instance`). */
  get channelName(): string {
    return `${this.#options.prefix}${this.#options.adminName}`.toLowerCase();
  }

  /** The topic of `event` of `device/attribute` for a client of IDL `idl`. */
  topic(device: string, attribute: string, event: EventKind, idl: number): string {
    const name = idl >= 5 && event !== 'user_event' && event !== 'data_ready' ? `idl5_${event}` : event;
    return `${this.#options.prefix}${device}/${attribute}${this.#options.modifier}.${name}`.toLowerCase();
  }

  #key = (device: string, attribute: string, event: string): string => `${device}/${attribute}.${event}`.toLowerCase();

  /** Records (or renews) a subscription and answers what the client needs to connect. */
  subscribe(device: string, attribute: string, event: EventKind, idl: number): SubscriptionReply {
    const topic = this.topic(device, attribute, event, idl);
    this.#subscriptions.set(this.#key(device, attribute, event), { topic, idl, renewed: Date.now() });
    const [major, minor, patch] = zmq.version.split('.').map(Number) as [number, number, number];
    return {
      lvalue: [TANGO_LIB_RELEASE, 5, 1000, 0, 0, major * 100 + minor * 10 + patch],
      svalue: [this.heartbeatEndpoint, this.eventEndpoint, topic, this.channelName],
    };
  }

  /** Renews a subscription (`EventConfirmSubscription`); false when there is none. */
  confirm(device: string, attribute: string, event: string): boolean {
    const s = this.#subscriptions.get(this.#key(device, attribute, event));
    if (s) s.renewed = Date.now();
    return s !== undefined;
  }

  /** The live subscription to `event` of `device/attribute`, if a client made one. */
  #live(device: string, attribute: string, event: EventKind): { topic: string; idl: number } | undefined {
    const key = this.#key(device, attribute, event);
    const s = this.#subscriptions.get(key);
    if (s && Date.now() - s.renewed > SUBSCRIPTION_LIFETIME_MS) {
      this.#subscriptions.delete(key);
      return undefined;
    }
    return s;
  }

  /** True when someone listens to `event` of `device/attribute`. */
  wanted(device: string, attribute: string, event: EventKind): boolean {
    return this.#live(device, attribute, event) !== undefined;
  }

  /** Sends an attribute event (a value, or the errors of a failed read) to its subscribers. */
  publish(device: string, attribute: string, event: EventKind, value: OutgoingValue): void {
    const s = this.#live(device, attribute, event);
    if (!s || this.#closed) return;
    const error = value.errors.length > 0;
    const w = new CdrWriter(true, 256);
    if (error) writeDevErrors(w, value.errors);
    else writeAttributeValue(w, value, s.idl >= 5 ? 5 : 4);
    this.#send(s.topic, error, Buffer.concat([FILLER, w.bytes()]));
  }

  /** Sends an error event (e.g. the attribute can no longer be read). */
  publishError(device: string, attribute: string, event: EventKind, errors: readonly DevError[]): void {
    const s = this.#live(device, attribute, event);
    if (!s || this.#closed) return;
    const w = new CdrWriter(true, 128);
    writeDevErrors(w, errors);
    this.#send(s.topic, true, Buffer.concat([FILLER, w.bytes()]));
  }

  #send(topic: string, error: boolean, data: Uint8Array): void {
    const ctr = (this.#counters.get(topic) ?? 0) + 1;
    this.#counters.set(topic, ctr);
    this.#event
      .send([topic, Uint8Array.of(1), callInfo(ctr, error), data])
      .catch((e: unknown) => this.log.warn(`cannot send the event ${topic}: ${errorMessage(e)}`));
  }

  #beat(): void {
    if (this.#closed) return;
    const topic = `${this.channelName}${this.#options.modifier}.heartbeat`;
    this.#heartbeat
      .send([topic, Uint8Array.of(1), callInfo(++this.#heartbeatCounter, false)])
      .catch((e: unknown) => this.log.warn(`cannot send the heartbeat: ${errorMessage(e)}`));
  }

  /** Stops the heartbeat and closes the sockets. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    this.#heartbeat.close();
    this.#event.close();
  }
}

/** A `ZmqCallInfo`: version 1, the event counter, no method name, no oid, whether it is an error. */
function callInfo(ctr: number, error: boolean): Uint8Array {
  const w = new CdrWriter(true, 32);
  w.long(1)
    .ulong(ctr >>> 0)
    .string('')
    .octets(new Uint8Array(0))
    .boolean(error);
  return Uint8Array.from(w.bytes());
}
