/**
 * A Tango device server in this process: devices written with {@link defineDevice}, their admin
 * device, events over ZeroMQ and server-side polling, reachable without a database
 * (`tango://host:port/domain/family/member#dbase=no`) or exported to the Tango database named by
 * `TANGO_HOST`.
 * @example
 * ```ts
 * const server = await DeviceServer.create({
 *   server: 'motors', instance: 'lab', port: 10000,
 *   devices: [{ name: 'lab/motor/1', definition: motor }],
 * });
 * console.log(server.url('lab/motor/1'));   // tango://127.0.0.1:10000/lab/motor/1#dbase=no
 * await server.stop();
 * ```
 * @module
 */
import { hostname } from 'node:os';
import { DeviceProxy } from '../device-proxy.js';
import { TangoType } from '../idl-types.js';
import { stringifyIor } from '../ior.js';
import { Logger, errorMessage } from '../../core/index.js';
import { adminDefinition, type AdminHost } from './admin.js';
import { readAttribute } from './attribute-io.js';
import { DevFailed } from './dev-failed.js';
import { TangoDevice, type DeviceDefinition } from './device.js';
import { DeviceServant } from './device-servant.js';
import { EventPublisher, type EventKind, type EventSecurity, type SubscriptionReply } from './events.js';
import { GiopServer } from './giop-server.js';
import { Poller } from './polling.js';

/** A device to run: its name and definition (or a device made already). */
export type DeviceSpec = { readonly name: string; readonly definition: DeviceDefinition } | TangoDevice;

/** Options of {@link DeviceServer.create}. */
export interface DeviceServerOptions {
  /** Server (executable) name, e.g. `walker`. */
  readonly server: string;
  /** Instance name (default `name`, as Python Concert's servers). */
  readonly instance?: string;
  readonly devices: readonly DeviceSpec[];
  /** Address to bind (default 127.0.0.1). */
  readonly host?: string;
  /** GIOP port (default: a free one). */
  readonly port?: number;
  /** `host:port` of a Tango database to export the devices to (default: none, no-database mode). */
  readonly tangoHost?: string;
  /** Called after a client ran the admin device's `Kill` (default: nothing more than stopping). */
  readonly onKill?: () => void;
  /** Who may subscribe to events (client addresses, or CURVE keys; default: everyone). */
  readonly events?: EventSecurity;
}

const NAME = /^[A-Za-z0-9_.-]+$/;

/** A running device server. */
export class DeviceServer implements AdminHost {
  readonly log: Logger;
  readonly serverId: string;
  readonly adminName: string;
  readonly #giop: GiopServer;
  readonly #devices = new Map<string, TangoDevice>();
  readonly #admin: TangoDevice;
  readonly #events: EventPublisher;
  readonly #poller: Poller;
  readonly #options: DeviceServerOptions;
  readonly #advertised: string;
  #stopped = false;

  private constructor(options: DeviceServerOptions, giop: GiopServer, events: EventPublisher, advertised: string) {
    this.#options = options;
    this.#giop = giop;
    this.#events = events;
    this.#advertised = advertised;
    const instance = options.instance ?? 'name';
    this.serverId = `${options.server}/${instance}`;
    this.adminName = `dserver/${this.serverId}`;
    this.log = new Logger(`tango server ${this.serverId}`);
    this.#poller = new Poller(
      async (device, attribute) => readAttribute(this.device(device), attribute),
      (device, attribute, value, changed) => {
        this.#events.publish(device, attribute, 'periodic', value);
        if (changed) {
          this.#events.publish(device, attribute, 'change', value);
          this.#events.publish(device, attribute, 'archive', value);
        }
      },
    );
    this.#admin = new TangoDevice(this.adminName, adminDefinition(this));
  }

  /**
   * Binds the port, starts every device (its `init`), its event sockets and polling, and exports
   * the devices to the database when `tangoHost` is given.
   * @throws TypeError for bad options, the bind error (port in use), DevFailed from an `init`.
   */
  static async create(options: DeviceServerOptions): Promise<DeviceServer> {
    if (!NAME.test(options.server))
      throw new TypeError(`server name must be letters, digits, _ . -, got ${JSON.stringify(options.server)}`);
    if (options.instance !== undefined && !NAME.test(options.instance))
      throw new TypeError(`instance name must be letters, digits, _ . -, got ${JSON.stringify(options.instance)}`);
    if (!options.devices.length) throw new TypeError('a device server needs at least one device');
    const devices = options.devices.map((d) => (d instanceof TangoDevice ? d : new TangoDevice(d.name, d.definition)));
    const names = new Set<string>();
    for (const d of devices) {
      if (names.has(d.name.toLowerCase())) throw new TypeError(`device ${d.name} is given twice`);
      names.add(d.name.toLowerCase());
    }
    const bind = options.host ?? '127.0.0.1';
    const giop = await GiopServer.listen({ host: bind, port: options.port });
    const advertised = bind === '0.0.0.0' || bind === '::' ? hostname() : bind;
    const instance = options.instance ?? 'name';
    let events: EventPublisher;
    try {
      events = await EventPublisher.create({
        bind: bind === '::' ? '0.0.0.0' : bind,
        prefix: options.tangoHost ? `tango://${options.tangoHost}/` : `tango://${hostname()}:${giop.port}/`,
        modifier: options.tangoHost ? '' : '#dbase=no',
        adminName: `dserver/${options.server}/${instance}`,
        security: options.events,
      });
    } catch (e) {
      await giop.close();
      throw e;
    }
    const server = new DeviceServer(options, giop, events, advertised);
    try {
      for (const d of devices) await server.#add(d);
      server.#register(server.#admin);
      if (options.tangoHost) await server.#export(options.tangoHost);
    } catch (e) {
      await server.stop();
      throw e;
    }
    server.log.info(`serving ${devices.map((d) => d.name).join(', ')} on ${bind}:${giop.port}`);
    return server;
  }

  async #add(device: TangoDevice): Promise<void> {
    device.attach({ changed: (d, attribute, value) => void this.#changed(d, attribute, value) });
    await device.init();
    this.#devices.set(device.name.toLowerCase(), device);
    this.#register(device);
    for (const e of device.attributes.values())
      if (e.definition.pollingPeriodMs) this.#poller.start(device.name, e.name, e.definition.pollingPeriodMs);
  }

  #register(device: TangoDevice): void {
    const servant = new DeviceServant(device, { serverId: this.serverId, host: hostname(), adminName: this.adminName });
    this.#giop.register(device.name, servant);
  }

  async #changed(device: TangoDevice, attribute: string, value: unknown): Promise<void> {
    const kinds: EventKind[] = ['change', 'archive', 'user_event'];
    const wanted = kinds.filter((k) => this.#events.wanted(device.name, attribute, k));
    if (!wanted.length) return;
    const v = await readAttribute(device, attribute, attribute.toLowerCase() === 'state' ? undefined : value);
    for (const k of wanted) this.#events.publish(device.name, attribute, k, v);
  }

  /** The bound port. */
  get port(): number {
    return this.#giop.port;
  }

  /** The address clients use. */
  get host(): string {
    return this.#advertised;
  }

  /** The client address of `device`: `tango://host:port/name#dbase=no`, or `tango://TANGO_HOST/name`. */
  url(device: string): string {
    const t = this.#options.tangoHost;
    return t ? `tango://${t}/${device}` : `tango://${this.#advertised}:${this.port}/${device}#dbase=no`;
  }

  /** GIOP counters (connections, requests, malformed). */
  get counters(): GiopServer['counters'] {
    return this.#giop.counters;
  }

  devices(): readonly TangoDevice[] {
    return [...this.#devices.values()];
  }

  device(name: string): TangoDevice {
    const d =
      this.#devices.get(name.toLowerCase()) ?? (name.toLowerCase() === this.adminName ? this.#admin : undefined);
    if (!d) throw new DevFailed('API_DeviceNotFound', `device ${name} is not served by ${this.serverId}`);
    return d;
  }

  eventEndpoints(): { heartbeat: string; event: string } {
    return { heartbeat: this.#events.heartbeatEndpoint, event: this.#events.eventEndpoint };
  }

  subscribe(device: TangoDevice, attribute: string, event: EventKind, idl: number): SubscriptionReply {
    const lower = attribute.toLowerCase();
    const entry = device.attributes.get(lower);
    const builtin = lower === 'state' || lower === 'status';
    if (!entry && !builtin) throw new DevFailed('API_AttrNotFound', `Attribute ${attribute} not found`, device.name);
    const name = entry?.name ?? (lower === 'state' ? 'State' : 'Status');
    const polled = this.#poller.period(device.name, name) !== undefined;
    const pushed = builtin || entry?.definition.changeEvents === true;
    const possible =
      event === 'periodic' ? polled : event === 'change' || event === 'archive' ? polled || pushed : true;
    if (!possible)
      throw new DevFailed(
        'API_AttributePollingNotStarted',
        `The polling (necessary to send events) for the attribute ${name} is not started`,
        'DServer::event_subscription',
      );
    return this.#events.subscribe(device.name, name, event, idl);
  }

  confirm(device: string, attribute: string, event: string): void {
    this.#events.confirm(device, attribute, event);
  }

  poll(device: TangoDevice, attribute: string, periodMs: number): void {
    const e = device.attributes.get(attribute.toLowerCase());
    const lower = attribute.toLowerCase();
    if (!e && lower !== 'state' && lower !== 'status')
      throw new DevFailed('API_AttrNotFound', `Attribute ${attribute} not found`, device.name);
    if (!Number.isInteger(periodMs) || periodMs < 10)
      throw new DevFailed(
        'API_NotSupportedFeature',
        `polling period must be a whole number of ms ≥ 10, got ${periodMs}`,
      );
    this.#poller.start(device.name, e?.name ?? attribute, periodMs);
  }

  unpoll(device: TangoDevice, attribute: string): void {
    if (!this.#poller.stop(device.name, attribute))
      throw new DevFailed('API_AttrNotPolled', `attribute ${attribute} of ${device.name} is not polled`);
  }

  polled(): { device: string; attribute: string; periodMs: number }[] {
    return this.#poller.list().map(({ key, periodMs }) => {
      const at = key.lastIndexOf('/');
      return { device: key.slice(0, at), attribute: key.slice(at + 1), periodMs };
    });
  }

  async restart(devices: readonly TangoDevice[]): Promise<void> {
    for (const d of devices) {
      await d.definition.delete?.(d);
      await d.init();
    }
  }

  kill(): void {
    setTimeout(() => {
      void this.stop().finally(() => this.#options.onKill?.());
    }, 50);
  }

  async #database(tangoHost: string): Promise<DeviceProxy> {
    return DeviceProxy.create(`tango://${tangoHost}/sys/database/2`, { timeoutMs: 5000, tangoHost });
  }

  /** Registers (if needed) and exports every device and the admin device. */
  async #export(tangoHost: string): Promise<void> {
    const db = await this.#database(tangoHost);
    try {
      const all = [...this.#devices.values(), this.#admin];
      for (const d of all) {
        await db.command('DbAddDevice', [this.serverId, d.name, d.className], TangoType.DevVarStringArray);
        const ior = stringifyIor(
          'IDL:Tango/Device_5:1.0',
          this.#advertised,
          this.port,
          new TextEncoder().encode(d.name.toLowerCase()),
        );
        await db.command(
          'DbExportDevice',
          [d.name, ior, hostname(), String(process.pid), '5'],
          TangoType.DevVarStringArray,
        );
      }
      this.log.info(`exported ${all.length} devices to the Tango database at ${tangoHost}`);
    } finally {
      await db.close();
    }
  }

  /** Un-exports (database mode), stops polling, events and the GIOP server, runs every `delete`. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#poller.stopAll();
    const t = this.#options.tangoHost;
    if (t) {
      try {
        const db = await this.#database(t);
        await db.command('DbUnExportServer', this.serverId, TangoType.DevString).finally(() => db.close());
      } catch (e) {
        this.log.warn(`cannot un-export ${this.serverId} from ${t}: ${errorMessage(e)}`);
      }
    }
    for (const d of this.#devices.values()) {
      try {
        await d.definition.delete?.(d);
      } catch (e) {
        this.log.warn(`${d.name}: delete failed: ${errorMessage(e)}`);
      }
      d.attach(undefined);
    }
    this.#events.close();
    await this.#giop.close();
  }
}
