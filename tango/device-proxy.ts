/**
 * `DeviceProxy`: a Tango device reached directly over GIOP (`#dbase=no`) or through the Tango
 * database (`TANGO_HOST`). Speaks the Device_5 interface of tango.idl.
 * @module
 */
import type { Observable } from 'rxjs';
import type { CdrReader, CdrWriter } from './cdr.js';
import { GiopConnection, GiopUserException, MAX_TIMEOUT_MS, PreparedRequest } from './giop.js';
import type { Body } from './giop-messages.js';
import { TangoError, TangoProtocolError, TangoTransportError } from './errors.js';
import { parseIor } from './ior.js';
import { readAny, writeAny } from './typecode.js';
import {
  DEV_STATES,
  TangoType,
  argTypeCode,
  readAttributeConfigs,
  readCommandInfos,
  readDevErrors,
  readDevInfo,
  tangoTypeName,
  type AttributeConfig,
  type CommandInfo,
  type DevInfo,
  type DevState,
} from './idl-types.js';
import {
  readAttributeValues,
  writeAttributeValues,
  type AttributeReading,
  type WriteValue,
} from './attribute-value.js';
import { subscribeAttribute, type EventType, type SubscribeOptions } from './events.js';
import { errorMessage } from '../core/index.js';

/** Options of {@link DeviceProxy.create}. */
export interface DeviceProxyOptions {
  /** Per-call timeout in ms (default 3000). */
  readonly timeoutMs?: number;
  /** Where reads come from: the device (default), the polling cache, or cache then device. */
  readonly source?: 'DEV' | 'CACHE' | 'CACHE_DEV';
  /** `host:port` of the Tango database; defaults to `TANGO_HOST`. */
  readonly tangoHost?: string;
}

/** A parsed Tango device address. */
export interface TangoAddress {
  readonly host: string;
  readonly port: number;
  readonly device: string;
  /** True for `#dbase=no` (host:port is the device server itself). */
  readonly direct: boolean;
}

/**
 * Parses `tango://host:port/domain/family/member[#dbase=no]`, `host:port/d/f/m[#dbase=no]` or
 * `d/f/m` (database from `tangoHost`).
 */
export function parseTangoAddress(url: string, tangoHost = process.env['TANGO_HOST']): TangoAddress {
  const m = /^(?:tango:\/\/)?(?:([^/:]+):(\d+)\/)?([^/#]+\/[^/#]+\/[^/#]+)(#dbase=(yes|no))?$/i.exec(url.trim());
  if (!m)
    throw new TangoTransportError(url, '?', 'not a Tango device address (tango://host:port/domain/family/member)');
  const direct = (m[5] ?? '').toLowerCase() === 'no';
  let host = m[1];
  let port = m[2];
  if (!host) {
    if (direct || !tangoHost) throw new TangoTransportError(m[3]!, '?', 'no host:port given and TANGO_HOST is not set');
    const th = /^([^:,]+):(\d+)/.exec(tangoHost);
    if (!th) throw new TangoTransportError(m[3]!, tangoHost, 'TANGO_HOST is not host:port');
    host = th[1]!;
    port = th[2]!;
  }
  return { host, port: Number(port), device: m[3]!, direct };
}

const textKey = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'latin1'));
/** Read requests kept encoded per proxy (cleared when full). */
const MAX_PREPARED = 256;
const CLIENT_PID = process.pid;
const SOURCES = ['DEV', 'CACHE', 'CACHE_DEV'] as const;

/** A connection to one Tango device. */
export class DeviceProxy {
  /** Device name (`domain/family/member`). */
  readonly name: string;
  /** Address the proxy was created with, in `tango://host:port/d/f/m[#dbase=no]` form. */
  readonly url: string;
  /** Per-call timeout in ms. */
  timeoutMs: number;
  #conn: GiopConnection;
  #key: Uint8Array;
  #source: number;
  #idl: 4 | 5 = 5;
  #configs = new Map<string, AttributeConfig>();
  #commands: Map<string, CommandInfo> | undefined;
  #closed = false;
  #address: TangoAddress | undefined;
  #options: DeviceProxyOptions;
  #admin: Promise<DeviceProxy> | undefined;
  #readRequests = new Map<string, PreparedRequest>();

  private constructor(name: string, url: string, conn: GiopConnection, key: Uint8Array, options: DeviceProxyOptions) {
    this.#options = options;
    this.name = name;
    this.url = url;
    this.#conn = conn;
    this.#key = key;
    this.timeoutMs = options.timeoutMs ?? 3000;
    this.#source = SOURCES.indexOf(options.source ?? 'DEV');
  }

  /**
   * Connects to a device and checks that it answers.
   * @throws TangoTransportError when the server cannot be reached, TangoError when the database
   *   does not know the device.
   * @example
   * ```ts
   * const dev = await DeviceProxy.create('tango://127.0.0.1:10000/sys/tg_test/1#dbase=no');
   * console.log(await dev.state(), (await dev.readAttribute('double_scalar')).value);
   * await dev.close();
   * ```
   */
  static async create(url: string, options: DeviceProxyOptions = {}): Promise<DeviceProxy> {
    const { timeoutMs } = options;
    if (timeoutMs !== undefined && !(timeoutMs > 0 && timeoutMs <= MAX_TIMEOUT_MS))
      throw new RangeError(
        `DeviceProxy timeoutMs must be a number of ms in (0, ${MAX_TIMEOUT_MS}], got ${String(timeoutMs)}`,
      );
    const source = options.source;
    if (source !== undefined && !SOURCES.includes(source))
      throw new RangeError(`DeviceProxy source must be one of ${SOURCES.join(', ')}, got ${String(source)}`);
    const addr = parseTangoAddress(url, options.tangoHost);
    let host = addr.host;
    let port = addr.port;
    let key = textKey(addr.device.toLowerCase()); // servers register devices under lower-case names
    if (!addr.direct) {
      const db = new DeviceProxy(
        'sys/database/2',
        `tango://${host}:${port}/sys/database/2`,
        GiopConnection.acquire(host, port),
        textKey('database'),
        options,
      );
      try {
        const res = (await db.command('DbImportDevice', addr.device, TangoType.DevString)) as {
          lvalue: Int32Array;
          svalue: string[];
        };
        if (!res.lvalue[0])
          throw new TangoTransportError(addr.device, `${host}:${port}`, 'device is not exported (server not running)');
        const profile = parseIor(res.svalue[1] ?? '').profiles[0];
        if (!profile) throw new TangoProtocolError(`${addr.device}: its IOR has no IIOP profile`);
        ({ host, port } = profile);
        key = profile.objectKey;
      } finally {
        await db.close();
      }
    }
    const fullUrl = `tango://${addr.host}:${addr.port}/${addr.device}${addr.direct ? '#dbase=no' : ''}`;
    const proxy = new DeviceProxy(addr.device, fullUrl, GiopConnection.acquire(host, port), key, options);
    proxy.#address = addr;
    try {
      if (!(await proxy.#isA('IDL:Tango/Device_5:1.0'))) {
        if (!(await proxy.#isA('IDL:Tango/Device_4:1.0'))) {
          throw new TangoProtocolError(`${addr.device}: device servers older than Tango 7 (IDL 4) are not supported`);
        }
        proxy.#idl = 4;
      }
    } catch (e) {
      await proxy.close();
      throw e;
    }
    return proxy;
  }

  /** `host:port` of the device server. */
  get endpoint(): string {
    return this.#conn.endpoint;
  }

  /** IDL version the device implements (5 for Tango 9 servers). */
  get idlVersion(): number {
    return this.#idl;
  }

  /** @internal Calls an operation of the device and decodes the reply. */
  call<T>(
    operation: string,
    args: Body | undefined,
    decode: (r: CdrReader) => T,
    timeoutMs = this.timeoutMs,
  ): Promise<T> {
    if (this.#closed) return Promise.reject(new TangoTransportError(this.name, this.endpoint, 'proxy is closed'));
    return this.#settle(
      operation,
      this.#conn.call(this.#key, operation, args, { timeoutMs, device: this.name }),
      decode,
    );
  }

  /** Decodes a reply, or maps a DevFailed to a {@link TangoError}. */
  #settle<T>(operation: string, reply: Promise<CdrReader>, decode: (r: CdrReader) => T): Promise<T> {
    return reply.then(
      (reader) => {
        try {
          return decode(reader);
        } catch (e) {
          if (e instanceof TangoError || e instanceof TangoProtocolError) throw e;
          throw new TangoProtocolError(
            `${this.name} at ${this.endpoint}: cannot decode the reply to ${operation}: ${errorMessage(e)}`,
            { cause: e },
          );
        }
      },
      (e: unknown) => {
        throw e instanceof GiopUserException ? this.#userException(operation, e) : e;
      },
    );
  }

  /** The `read_attributes_N` request for `names`, encoded once per list of names. */
  #readRequest(names: readonly string[]): PreparedRequest {
    const key = names.length === 1 ? names[0]! : names.join('\0');
    let request = this.#readRequests.get(key);
    if (!request) {
      if (this.#readRequests.size >= MAX_PREPARED) this.#readRequests.clear();
      request = new PreparedRequest(this.#key, `read_attributes_${this.#idl}`, (w) => {
        w.strings(names).ulong(this.#source);
        this.#clientIdent(w);
      });
      this.#readRequests.set(key, request);
    }
    return request;
  }

  #userException(operation: string, e: GiopUserException): Error {
    try {
      if (e.repoId === 'IDL:Tango/DevFailed:1.0') return new TangoError(this.name, operation, readDevErrors(e.body));
      if (e.repoId === 'IDL:Tango/MultiDevFailed:1.0') {
        const n = e.body.length(12);
        const errors = [];
        for (let i = 0; i < n; i++) {
          const attr = e.body.string();
          e.body.long();
          errors.push(...readDevErrors(e.body).map((d) => ({ ...d, desc: `${attr}: ${d.desc}` })));
        }
        return new TangoError(this.name, operation, errors);
      }
      return new TangoProtocolError(`${this.name}: ${operation} raised ${e.repoId}`);
    } catch (err) {
      return new TangoProtocolError(`${this.name}: cannot decode ${e.repoId}: ${errorMessage(err)}`, { cause: err });
    }
  }

  #isA(repoId: string): Promise<boolean> {
    return this.call(
      '_is_a',
      (w) => w.string(repoId),
      (r) => r.boolean(),
    );
  }

  #clientIdent(w: CdrWriter): void {
    w.ulong(0).ulong(CLIENT_PID); // ClntIdent: CPP, pid
  }

  /** Round trip time of a `ping` in ms. */
  async ping(): Promise<number> {
    const t0 = performance.now();
    await this.call('ping', undefined, () => undefined);
    return performance.now() - t0;
  }

  /** Class, server and host of the device. */
  info(): Promise<DevInfo> {
    return this.call('info_3', undefined, (r) => readDevInfo(r));
  }

  /** Device state. */
  state(): Promise<DevState> {
    return this.call('_get_state', undefined, (r) => DEV_STATES[r.enumValue(DEV_STATES.length, 'DevState')]!);
  }

  /** Device status text. */
  status(): Promise<string> {
    return this.call('_get_status', undefined, (r) => r.string());
  }

  /** Configuration of attributes (all of them when `names` is omitted); cached for writes. */
  async attributeConfig(names?: readonly string[]): Promise<AttributeConfig[]> {
    const list = names ?? ['All attributes_3'];
    const op = this.#idl === 5 ? 'get_attribute_config_5' : 'get_attribute_config_3';
    if (this.#idl !== 5) throw new TangoProtocolError(`${this.name}: attribute configuration needs IDL 5`);
    const configs = await this.call(op, (w) => w.strings(list), readAttributeConfigs);
    for (const c of configs) this.#configs.set(c.name.toLowerCase(), c);
    return configs;
  }

  /** Names of all attributes. */
  async attributeList(): Promise<string[]> {
    return (await this.attributeConfig()).map((c) => c.name);
  }

  async #config(name: string): Promise<AttributeConfig> {
    const c = this.#configs.get(name.toLowerCase());
    if (c) return c;
    const [fresh] = await this.attributeConfig([name]);
    return fresh!;
  }

  /** Reads several attributes in one call. @throws TangoError when any of them failed. */
  readAttributes(names: readonly string[]): Promise<AttributeReading[]> {
    if (this.#closed) return Promise.reject(new TangoTransportError(this.name, this.endpoint, 'proxy is closed'));
    const request = this.#readRequest(names);
    const reply = this.#conn.callPrepared(request, { timeoutMs: this.timeoutMs, device: this.name });
    const idl = this.#idl;
    return this.#settle(request.operation, reply, (r) => this.#checked(readAttributeValues(r, idl)));
  }

  /**
   * Reads one attribute: `value` is a scalar, or for spectra and images a flat typed array with
   * `dimX`/`dimY`.
   * @throws TangoError with the server's reason (e.g. `API_AttrNotFound`).
   */
  readAttribute(name: string): Promise<AttributeReading> {
    if (this.#closed) return Promise.reject(new TangoTransportError(this.name, this.endpoint, 'proxy is closed'));
    const request = this.#readRequest([name]);
    const reply = this.#conn.callPrepared(request, { timeoutMs: this.timeoutMs, device: this.name });
    const idl = this.#idl;
    return this.#settle(request.operation, reply, (r) => {
      const a = this.#checked(readAttributeValues(r, idl))[0];
      if (!a) throw new TangoProtocolError(`${this.name}: empty reply reading ${name}`);
      return a;
    });
  }

  /** The readings, unless one of them carries errors (then a {@link TangoError}). */
  #checked(readings: AttributeReading[]): AttributeReading[] {
    for (const a of readings) {
      if (a.errors.length) throw new TangoError(this.name, `reading ${a.name}`, a.errors);
    }
    return readings;
  }

  /** Writes several attributes in one call (types taken from the attribute configuration). */
  async writeAttributes(values: Readonly<Record<string, WriteValue>>): Promise<void> {
    const items = await this.#items(values);
    await this.call(
      'write_attributes_4',
      (w) => {
        writeAttributeValues(w, items);
        this.#clientIdent(w);
      },
      () => undefined,
    );
  }

  /** Writes one attribute. */
  writeAttribute(name: string, value: WriteValue): Promise<void> {
    return this.writeAttributes({ [name]: value });
  }

  /** Writes an attribute and reads it back in one call (`write_read_attributes_5`). */
  async writeReadAttribute(name: string, value: WriteValue): Promise<AttributeReading> {
    const items = await this.#items({ [name]: value });
    const idl = this.#idl;
    const [a] = await this.call(
      `write_read_attributes_${idl}`,
      (w) => {
        writeAttributeValues(w, items);
        if (idl === 5) w.strings([name]);
        this.#clientIdent(w);
      },
      (r) => readAttributeValues(r, idl),
    );
    if (!a) throw new TangoProtocolError(`${this.name}: empty reply writing ${name}`);
    if (a.errors.length) throw new TangoError(this.name, `write-reading ${a.name}`, a.errors);
    return a;
  }

  async #items(
    values: Readonly<Record<string, WriteValue>>,
  ): Promise<{ config: AttributeConfig; value: WriteValue }[]> {
    const items = [];
    for (const [name, value] of Object.entries(values)) items.push({ config: await this.#config(name), value });
    return items;
  }

  /** All commands with their argument and result types. */
  async commandList(): Promise<CommandInfo[]> {
    const list = await this.call('command_list_query_2', undefined, readCommandInfos);
    this.#commands = new Map(list.map((c) => [c.name.toLowerCase(), c]));
    return list;
  }

  /**
   * Runs a command. `arg` must fit the command's argument type: numbers (or bigint for 64-bit),
   * strings, booleans, arrays or typed arrays for `DevVar*Array`, `{ lvalue, svalue }` /
   * `{ dvalue, svalue }` for `DevVarLongStringArray` / `DevVarDoubleStringArray`, a state name
   * for `DevState`. The result has the same shapes (numeric arrays as typed arrays).
   * @param inType Tango type code of the argument; looked up in the command list when omitted.
   * @param options `timeoutMs` for this call (long commands such as a stream that is written).
   */
  async command(name: string, arg?: unknown, inType?: number, options: { timeoutMs?: number } = {}): Promise<unknown> {
    let type = inType;
    if (type === undefined) {
      if (!this.#commands) await this.commandList();
      const info = this.#commands!.get(name.toLowerCase());
      if (!info)
        throw new TangoError(this.name, `command ${name}`, [
          {
            reason: 'API_CommandNotFound',
            severity: 'ERR',
            desc: `Command ${name} not found`,
            origin: 'DeviceProxy.command (client)',
          },
        ]);
      type = info.inType;
    }
    const tc = argTypeCode(type);
    const op = this.#idl >= 4 && !this.name.startsWith('sys/database') ? 'command_inout_4' : 'command_inout';
    return this.call(
      op,
      (w) => {
        w.string(name);
        try {
          writeAny(w, tc, arg);
        } catch (e) {
          throw new TypeError(`${this.name}.${name}: argument is not a ${tangoTypeName(type)}: ${errorMessage(e)}`, {
            cause: e,
          });
        }
        if (op === 'command_inout_4') {
          w.ulong(0);
          this.#clientIdent(w);
        }
      },
      (r) => readAny(r).value,
      options.timeoutMs ?? this.timeoutMs,
    );
  }

  /**
   * Values of an attribute as they change (`'change'`) or at the polling period (`'periodic'`),
   * over the server's ZeroMQ event channel, or by client polling when events are unavailable.
   */
  subscribe(attribute: string, type: EventType, options?: SubscribeOptions): Observable<AttributeReading> {
    return subscribeAttribute(this, attribute, type, options);
  }

  /**
   * Calls `listener` when the connection to the device's server goes away (the server stopped
   * or restarted). Returns the function that removes it.
   */
  onConnectionLost(listener: (why: string) => void): () => void {
    return this.#conn.onLost(listener);
  }

  /** The admin device (`dserver/<server>/<instance>`) of this device's server, created on first use. */
  adminDevice(): Promise<DeviceProxy> {
    if (!this.#admin) {
      const a = this.#address;
      if (!a) return Promise.reject(new TangoProtocolError(`${this.name}: no address to reach its admin device`));
      this.#admin = this.call('_get_adm_name', undefined, (r) => r.string()).then((adm) => {
        const name = adm.replace(/^tango:\/\/[^/]+\//i, '').replace(/#.*$/, '');
        return DeviceProxy.create(`tango://${a.host}:${a.port}/${name}${a.direct ? '#dbase=no' : ''}`, {
          ...this.#options,
          timeoutMs: this.timeoutMs,
        });
      });
      this.#admin.catch(() => {
        this.#admin = undefined;
      });
    }
    return this.#admin;
  }

  /** Releases the connection (closed when no other proxy of the same server uses it). */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const admin = this.#admin;
    this.#admin = undefined;
    await admin?.then(
      (a) => a.close(),
      () => undefined,
    );
    this.#conn.release();
  }
}
