/**
 * The admin device of a device server (`dserver/<server>/<instance>`, class DServer), written with
 * the same declarative API as any device: the commands clients and tools call (State, Status,
 * Init, QueryClass, QueryDevice, Kill, RestartServer, DevRestart), event subscription
 * (ZmqEventSubscriptionChange, EventConfirmSubscription), polling and the logging and locking
 * commands Jive and Astor call.
 * @module
 */
import { DevFailed } from './dev-failed.js';
import { defineDevice, type DeviceDefinition, type TangoDevice } from './device.js';
import { EVENT_KINDS, TANGO_LIB_RELEASE, type EventKind, type SubscriptionReply } from './events.js';

/** What the admin device needs from its server. */
export interface AdminHost {
  /** The devices of the server (admin device excluded). */
  devices(): readonly TangoDevice[];
  /** The device `name` (case-insensitive). @throws DevFailed API_DeviceNotFound. */
  device(name: string): TangoDevice;
  /** Endpoints for `ZmqEventSubscriptionChange info`. */
  eventEndpoints(): { heartbeat: string; event: string };
  /** Subscribes a client. @throws DevFailed when the attribute cannot send `event`. */
  subscribe(device: TangoDevice, attribute: string, event: EventKind, idl: number): SubscriptionReply;
  /** Renews a subscription. */
  confirm(device: string, attribute: string, event: string): void;
  /** Polling: start, stop, period, list. */
  poll(device: TangoDevice, attribute: string, periodMs: number): void;
  unpoll(device: TangoDevice, attribute: string): void;
  polled(): { device: string; attribute: string; periodMs: number }[];
  /** Re-initialises devices (`Init`, `RestartServer`, `DevRestart`). */
  restart(devices: readonly TangoDevice[]): Promise<void>;
  /** Stops the server soon after the reply went out (`Kill`). */
  kill(): void;
}

type LongString = { lvalue: ArrayLike<number>; svalue: string[] };

/** The DServer class for a host. */
export function adminDefinition(host: AdminHost): DeviceDefinition {
  const logLevels = new Map<string, number>();
  const polledOf = (name: string) =>
    host
      .polled()
      .filter((p) => p.device.toLowerCase() === name.toLowerCase())
      .map((p) => `Polled attribute name = ${p.attribute}\nPolling period (mS) = ${p.periodMs}`);
  const pollArgs = (a: LongString | string[], what: string): [TangoDevice, string] => {
    const s = Array.isArray(a) ? a : a.svalue;
    if (s.length < 3 || s[1]!.toLowerCase() !== 'attribute')
      throw new DevFailed(
        'API_NotSupported',
        `${what} needs [device, "attribute", attribute name] (commands are not polled)`,
      );
    return [host.device(s[0]!), s[2]!];
  };
  return defineDevice({
    className: 'DServer',
    description: 'The admin device of a Concert device server',
    initialState: 'ON',
    commands: {
      QueryClass: { out: 'DevVarStringArray', handler: () => [...new Set(host.devices().map((d) => d.className))] },
      QueryDevice: { out: 'DevVarStringArray', handler: () => host.devices().map((d) => `${d.className}::${d.name}`) },
      QuerySubDevice: { out: 'DevVarStringArray', handler: () => [] },
      QueryWizardClassProperty: { in: 'DevString', out: 'DevVarStringArray', handler: () => [] },
      QueryWizardDevProperty: { in: 'DevString', out: 'DevVarStringArray', handler: () => [] },
      Kill: { handler: () => host.kill() },
      RestartServer: { handler: () => host.restart(host.devices()) },
      DevRestart: { in: 'DevString', handler: (name: string) => host.restart([host.device(name)]) },
      ZmqEventSubscriptionChange: {
        in: 'DevVarStringArray',
        out: 'DevVarLongStringArray',
        handler: (args: string[]): LongString => {
          if (args.length === 1 && args[0]!.toLowerCase() === 'info') {
            const e = host.eventEndpoints();
            return { lvalue: [TANGO_LIB_RELEASE], svalue: [`Heartbeat: ${e.heartbeat}`, `Event: ${e.event}`] };
          }
          if (args.length < 4)
            throw new DevFailed(
              'API_WrongNumberOfArgs',
              'ZmqEventSubscriptionChange needs [device, attribute, "subscribe", event, client IDL] or ["info"]',
            );
          const [name, attribute, action, event, idl] = args as [string, string, string, string, string?];
          if (action.toLowerCase() !== 'subscribe')
            throw new DevFailed(
              'API_WrongCommand',
              `ZmqEventSubscriptionChange: action must be subscribe, got ${action}`,
            );
          const kind = event.toLowerCase().replace(/^idl5_/, '') as EventKind;
          if (!(EVENT_KINDS as readonly string[]).includes(kind))
            throw new DevFailed('API_WrongEventName', `unknown event ${event} (known: ${EVENT_KINDS.join(', ')})`);
          return host.subscribe(host.device(name), attribute, kind, Number(idl ?? 4) || 4);
        },
      },
      EventConfirmSubscription: {
        in: 'DevVarStringArray',
        handler: (args: string[]) => {
          if (args.length % 3 !== 0)
            throw new DevFailed(
              'API_WrongNumberOfArgs',
              'EventConfirmSubscription needs [device, attribute, event] triples',
            );
          for (let i = 0; i < args.length; i += 3)
            host.confirm(args[i]!, args[i + 1]!, args[i + 2]!.replace(/^idl5_/, ''));
        },
      },
      EventSubscriptionChange: {
        in: 'DevVarStringArray',
        out: 'DevLong',
        handler: () => {
          throw new DevFailed(
            'API_NotSupported',
            'events through a notification daemon are not supported: use ZeroMQ events',
          );
        },
      },
      PolledDevice: {
        out: 'DevVarStringArray',
        handler: () => [...new Set(host.polled().map((p) => p.device))],
      },
      DevPollStatus: {
        in: 'DevString',
        out: 'DevVarStringArray',
        handler: (name: string) => polledOf(host.device(name).name),
      },
      AddObjPolling: {
        in: 'DevVarLongStringArray',
        handler: (a: LongString) => {
          const [device, attr] = pollArgs(a, 'AddObjPolling');
          host.poll(device, attr, Number(a.lvalue[0]));
        },
      },
      UpdObjPollingPeriod: {
        in: 'DevVarLongStringArray',
        handler: (a: LongString) => {
          const [device, attr] = pollArgs(a, 'UpdObjPollingPeriod');
          host.poll(device, attr, Number(a.lvalue[0]));
        },
      },
      RemObjPolling: {
        in: 'DevVarStringArray',
        handler: (a: string[]) => {
          const [device, attr] = pollArgs(a, 'RemObjPolling');
          host.unpoll(device, attr);
        },
      },
      StartPolling: { handler: () => undefined },
      StopPolling: { handler: () => undefined },
      GetLoggingLevel: {
        in: 'DevVarStringArray',
        out: 'DevVarLongStringArray',
        handler: (names: string[]): LongString => ({
          lvalue: names.map((n) => logLevels.get(n.toLowerCase()) ?? 0),
          svalue: names,
        }),
      },
      SetLoggingLevel: {
        in: 'DevVarLongStringArray',
        handler: (a: LongString) =>
          a.svalue.forEach((n, i) => logLevels.set(n.toLowerCase(), Number(a.lvalue[i] ?? 0))),
      },
      GetLoggingTarget: { in: 'DevString', out: 'DevVarStringArray', handler: () => [] },
      AddLoggingTarget: { in: 'DevVarStringArray', handler: () => undefined },
      RemoveLoggingTarget: { in: 'DevVarStringArray', handler: () => undefined },
      StartLogging: { handler: () => undefined },
      StopLogging: { handler: () => undefined },
      DevLockStatus: {
        in: 'DevString',
        out: 'DevVarLongStringArray',
        handler: (name: string): LongString => (
          host.device(name),
          { lvalue: [0, 0, 0, 0, 0, 0], svalue: ['Device is not locked', '', ''] }
        ),
      },
      LockDevice: {
        in: 'DevVarLongStringArray',
        handler: (a: LongString) => {
          throw new DevFailed(
            'API_NotSupported',
            `locking ${a.svalue[0] ?? 'a device'} is not supported by this server`,
          );
        },
      },
      UnLockDevice: { in: 'DevVarLongStringArray', out: 'DevLong', handler: () => 0 },
      ReLockDevices: { in: 'DevVarStringArray', handler: () => undefined },
    },
  });
}
