/**
 * The Device_5 interface of tango.idl for one {@link TangoDevice}: the operations Tango clients
 * (PyTango, cppTango, our DeviceProxy, Jive) call, with their reply types, and DevFailed
 * (`IDL:Tango/DevFailed:1.0`) for every refusal.
 * @module
 */
import { CdrError, CdrWriter, type CdrReader } from '../cdr.js';
import type { DevError } from '../errors.js';
import {
  DEV_STATES,
  TangoType,
  argTypeCode,
  type AttributeConfig,
  type CommandInfo,
  type DevInfo,
} from '../idl-types.js';
import {
  readAttributeConfigChanges,
  writeAttributeConfigs,
  writeCommandInfo,
  writeCommandInfos,
  writeDevErrors,
  writeDevInfo,
  type AttributeConfigVersion,
} from '../idl-writers.js';
import { readAny, writeAny } from '../typecode.js';
import {
  attributeEntry,
  readAttribute,
  readWrittenValues1,
  readWrittenValues4,
  writeAttribute,
  writeAttributeValue,
  writeAttributeValueAny,
  writeMultiDevFailed,
  type OutgoingValue,
  type WrittenValue,
} from './attribute-io.js';
import { DevFailed, devErrorsOf } from './dev-failed.js';
import type { TangoDevice } from './device.js';
import { SystemException, UserException, type ReplyBody, type RequestContext, type Servant } from './giop-server.js';
import { commandTypeName, sameShape, typeCode, type CommandType } from './values.js';
import { errorMessage } from '../../core/index.js';

/** Repository ids of Device_5 and what it derives from. */
export const DEVICE_5_INTERFACES = [
  'IDL:Tango/Device_5:1.0',
  'IDL:Tango/Device_4:1.0',
  'IDL:Tango/Device_3:1.0',
  'IDL:Tango/Device_2:1.0',
  'IDL:Tango/Device:1.0',
  'IDL:omg.org/CORBA/Object:1.0',
] as const;

/** What a servant knows about its server. */
export interface ServantContext {
  /** `walker/name`. */
  readonly serverId: string;
  /** Host name clients see. */
  readonly host: string;
  /** Admin device name (`dserver/walker/name`). */
  readonly adminName: string;
}

const BLACK_BOX_SIZE = 50;

/** The DevFailed reply for an error stack. */
export function devFailed(errors: readonly DevError[]): UserException {
  return new UserException('IDL:Tango/DevFailed:1.0', (w) => writeDevErrors(w, errors));
}

/** Skips a `ClntIdent` union (CPP: pid; JAVA: main class and UUID). */
function readClientIdent(r: CdrReader): void {
  const language = r.ulong();
  if (language === 0) r.ulong();
  else {
    r.string();
    r.ulonglong();
    r.ulonglong();
  }
}

type Operation = (r: CdrReader, ctx: RequestContext) => Promise<ReplyBody> | ReplyBody;

/** Answers the Device_5 operations for one device. */
export class DeviceServant implements Servant {
  readonly interfaces = DEVICE_5_INTERFACES;
  readonly #blackBox: { time: number; operation: string; peer: string }[] = [];
  #blackBoxNext = 0;
  readonly #ops: Record<string, Operation>;

  constructor(
    readonly device: TangoDevice,
    readonly context: ServantContext,
  ) {
    const readAttrs =
      (version: 1 | 3 | 4 | 5, source: boolean, ident: boolean): Operation =>
      (r) => {
        const names = r.strings();
        if (source) r.ulong();
        if (ident) readClientIdent(r);
        const values = this.readAttributes(names);
        return values instanceof Promise ? values.then((v) => valueList(v, version)) : valueList(values, version);
      };
    const config =
      (version: AttributeConfigVersion): Operation =>
      (r) => {
        const names = r.strings();
        const configs = this.configs(names);
        return (w) => writeAttributeConfigs(w, configs, version);
      };
    const setConfig =
      (version: 3 | 5, ident: boolean): Operation =>
      (r) => {
        const changes = readAttributeConfigChanges(r, version);
        if (ident) readClientIdent(r);
        for (const c of changes) {
          const e = attributeEntry(this.device, c.name);
          e.config = { ...e.config, ...c, name: e.config.name };
        }
        return undefined;
      };
    const command =
      (kind: 1 | 2 | 4): Operation =>
      async (r) => {
        const name = r.string();
        const arg = readAny(r);
        if (kind >= 2) r.ulong(); // source
        if (kind === 4) readClientIdent(r);
        return this.runCommand(name, arg.type, arg.value);
      };
    this.#ops = {
      _get_name: () => (w) => w.string(this.device.name),
      _get_description: () => (w) => w.string(this.device.definition.description ?? 'A Tango device'),
      _get_state: () => (w) => w.ulong(DEV_STATES.indexOf(this.device.state)),
      _get_status: () => (w) => w.string(this.device.status),
      _get_adm_name: () => (w) => w.string(this.context.adminName),
      ping: () => undefined,
      info: () => (w) => writeDevInfo(w, this.info(), false),
      info_3: () => (w) => writeDevInfo(w, this.info(), true),
      black_box: (r) => {
        const n = r.long();
        if (n <= 0) throw new DevFailed('API_BlackBoxArgument', 'Argument to read black box out of range');
        const entries = this.#blackBoxEntries(n);
        return (w) => w.strings(entries);
      },
      command_list_query: () => (w) => writeCommandInfos(w, this.commandInfos(), false),
      command_list_query_2: () => (w) => writeCommandInfos(w, this.commandInfos(), true),
      command_query: (r) => this.commandQuery(r.string(), false),
      command_query_2: (r) => this.commandQuery(r.string(), true),
      command_inout: command(1),
      command_inout_2: command(2),
      command_inout_4: command(4),
      get_attribute_config: config(1),
      get_attribute_config_2: config(2),
      get_attribute_config_3: config(3),
      get_attribute_config_5: config(5),
      set_attribute_config_3: setConfig(3, false),
      set_attribute_config_4: setConfig(3, true),
      set_attribute_config_5: setConfig(5, true),
      read_attributes: readAttrs(1, false, false),
      read_attributes_2: readAttrs(1, true, false),
      read_attributes_3: readAttrs(3, true, false),
      read_attributes_4: readAttrs(4, true, true),
      read_attributes_5: readAttrs(5, true, true),
      write_attributes: async (r) => (await this.writeAll(readWrittenValues1(r), false), undefined),
      write_attributes_3: async (r) => (await this.writeAll(readWrittenValues1(r), true), undefined),
      write_attributes_4: async (r) => {
        const values = readWrittenValues4(r);
        readClientIdent(r);
        await this.writeAll(values, true);
        return undefined;
      },
      write_read_attributes_4: async (r) => {
        const values = readWrittenValues4(r);
        readClientIdent(r);
        await this.writeAll(values, true);
        const read = await this.readAttributes(values.map((v) => v.name));
        return (w) => {
          w.ulong(read.length);
          for (const v of read) writeAttributeValue(w, v, 4);
        };
      },
      write_read_attributes_5: async (r) => {
        const values = readWrittenValues4(r);
        const names = r.strings();
        readClientIdent(r);
        await this.writeAll(values, true);
        const read = await this.readAttributes(names);
        return (w) => {
          w.ulong(read.length);
          for (const v of read) writeAttributeValue(w, v, 5);
        };
      },
      get_pipe_config_5: (r) => {
        const names = r.strings();
        if (names.length) throw new DevFailed('API_PipeNotFound', `${this.device.name} has no pipe ${names[0]}`);
        return (w) => w.ulong(0);
      },
    };
    for (const op of [
      'command_inout_history_2',
      'command_inout_history_4',
      'read_attribute_history_2',
      'read_attribute_history_3',
      'read_attribute_history_4',
      'read_attribute_history_5',
    ])
      this.#ops[op] = () => {
        throw new DevFailed('API_NotSupported', `${op}: ${this.device.name} keeps no polling history`);
      };
  }

  /** Runs an operation; every refusal goes out as DevFailed. */
  invoke(operation: string, body: CdrReader, ctx: RequestContext): ReplyBody | Promise<ReplyBody> {
    const op = this.#ops[operation];
    if (!op) throw new SystemException('BAD_OPERATION', `unknown operation ${operation}`, 0, 0);
    this.#record(operation, ctx.peer);
    try {
      const reply = op(body, ctx);
      // Most operations answer at once: no promise, no extra turn of the event loop.
      return reply instanceof Promise ? reply.catch((e: unknown) => this.#refusal(operation, e)) : reply;
    } catch (e) {
      return this.#refusal(operation, e);
    }
  }

  /** What a failed operation throws: DevFailed, or the CORBA exception it was. */
  #refusal(operation: string, e: unknown): never {
    if (e instanceof SystemException || e instanceof UserException) throw e;
    if (isDecodeError(e)) throw e; // the server answers MARSHAL
    throw devFailed(devErrorsOf(e, `${this.device.name}: ${operation}`));
  }

  /** Remembers the request for `black_box` (formatted only when asked for). */
  #record(operation: string, peer: string): void {
    this.#blackBox[this.#blackBoxNext % BLACK_BOX_SIZE] = { time: Date.now(), operation, peer };
    this.#blackBoxNext++;
  }

  /** The last `n` requests, newest first, as Tango formats them. */
  #blackBoxEntries(n: number): string[] {
    const out: string[] = [];
    const last = this.#blackBoxNext - 1;
    for (let k = last; k >= 0 && k > last - BLACK_BOX_SIZE && out.length < n; k--) {
      const e = this.#blackBox[k % BLACK_BOX_SIZE]!;
      const t = new Date(e.time).toISOString().replace('T', ' ').slice(0, 19);
      out.push(`${t} : Operation ${e.operation} requested from ${e.peer}`);
    }
    return out;
  }

  info(): DevInfo {
    return {
      devClass: this.device.className,
      serverId: this.context.serverId,
      serverHost: this.context.host,
      serverVersion: 5,
      docUrl: 'Doc URL = http://www.tango-controls.org',
      devType: this.device.className === 'DServer' ? 'Uninitialised' : this.device.className,
    };
  }

  /** Reads attributes, each failure carried in its own value (as IDL 3+ servers do). */
  readAttributes(names: readonly string[]): OutgoingValue[] | Promise<OutgoingValue[]> {
    if (names.length === 1) {
      const one = readAttribute(this.device, names[0]!);
      return one instanceof Promise ? one.then((v) => [v]) : [one];
    }
    return Promise.all(names.map((n) => readAttribute(this.device, n)));
  }

  /** Writes attributes; failures go out as MultiDevFailed (`multi`) or DevFailed. */
  async writeAll(values: readonly WrittenValue[], multi: boolean): Promise<void> {
    const failures: { name: string; index: number; errors: DevError[] }[] = [];
    for (const [index, v] of values.entries()) {
      try {
        await writeAttribute(this.device, v);
      } catch (e) {
        failures.push({ name: v.name, index, errors: devErrorsOf(e, `${this.device.name}/${v.name}`) });
      }
    }
    if (!failures.length) return;
    if (multi) throw new UserException('IDL:Tango/MultiDevFailed:1.0', (w) => writeMultiDevFailed(w, failures));
    throw devFailed(failures[0]!.errors);
  }

  /** Configurations of `names` (`All attributes`, `All attributes_3` for every one). */
  configs(names: readonly string[]): AttributeConfig[] {
    const all = names.length === 1 && /^All attributes(_3)?$/.test(names[0]!);
    const list = all ? [...this.device.attributes.values()].map((e) => e.config) : names.map((n) => this.#config(n));
    if (all) list.push(this.#config('State'), this.#config('Status'));
    return list;
  }

  #config(name: string): AttributeConfig {
    const lower = name.toLowerCase();
    if (lower === 'state' || lower === 'status') {
      const state = lower === 'state';
      return {
        ...failedValueConfig(state ? 'State' : 'Status'),
        dataType: state ? TangoType.DevState : TangoType.DevString,
        displayFormat: state ? 'Not specified' : '%s',
        label: state ? 'State' : 'Status',
      };
    }
    return attributeEntry(this.device, name).config;
  }

  commandInfos(): CommandInfo[] {
    const builtins: [string, CommandType, CommandType, string, string][] = [
      ['Init', 'DevVoid', 'DevVoid', 'Uninitialised', 'Uninitialised'],
      ['State', 'DevVoid', 'DevState', 'Uninitialised', 'Device state'],
      ['Status', 'DevVoid', 'DevString', 'Uninitialised', 'Device status'],
    ];
    const list: CommandInfo[] = builtins.map(([name, i, o, id, od]) => info(name, i, o, id, od, 'OPERATOR'));
    for (const c of this.device.commands.values()) {
      const d = c.definition;
      list.push(
        info(
          c.name,
          d.in ?? 'DevVoid',
          d.out ?? 'DevVoid',
          d.inDescription ?? 'Uninitialised',
          d.outDescription ?? 'Uninitialised',
          d.level ?? 'OPERATOR',
        ),
      );
    }
    return list.sort((a, b) => a.name.localeCompare(b.name));
  }

  commandQuery(name: string, v2: boolean): ReplyBody {
    const c = this.commandInfos().find((x) => x.name.toLowerCase() === name.toLowerCase());
    if (!c) throw new DevFailed('API_CommandNotFound', `Command ${name} not found`, this.device.name);
    return (w: CdrWriter) => writeCommandInfo(w, c, v2);
  }

  /** Runs a command: checks the argument's type, runs the handler, encodes the result. */
  async runCommand(name: string, type: Parameters<typeof sameShape>[0], value: unknown): Promise<ReplyBody> {
    const lower = name.toLowerCase();
    const origin = `${this.device.name}: ${name}`;
    let inType: CommandType = 'DevVoid';
    let outType: CommandType = 'DevVoid';
    let run: (arg: unknown) => unknown;
    if (lower === 'state') [outType, run] = ['DevState', () => this.device.state];
    else if (lower === 'status') [outType, run] = ['DevString', () => this.device.status];
    else if (lower === 'init') run = () => this.device.init();
    else {
      const c = this.device.commands.get(lower);
      if (!c) throw new DevFailed('API_CommandNotFound', `Command ${name} not found`, origin);
      inType = c.definition.in ?? 'DevVoid';
      outType = c.definition.out ?? 'DevVoid';
      const handler = c.definition.handler as (arg: unknown, d: TangoDevice) => unknown;
      run = (arg) => handler(arg, this.device);
    }
    const expected = argTypeCode(typeCode(inType));
    if (!sameShape(type, expected))
      throw new DevFailed(
        'API_IncompatibleCmdArgumentType',
        `Incompatible command argument type, expected type is : Tango::${commandTypeName(typeCode(inType))}`,
        origin,
      );
    const result = await run(inType === 'DevVoid' ? undefined : value);
    const outTc = argTypeCode(typeCode(outType));
    // Encode now, so a result that does not fit `out` is the client's DevFailed, not a broken reply.
    const probe = new CdrWriter(true, 64);
    try {
      writeAny(probe, outTc, result);
    } catch (e) {
      throw new DevFailed(
        'API_IncompatibleArgumentType',
        `${name} returned what is not a ${outType}: ${errorMessage(e)}`,
        origin,
      );
    }
    const bytes = probe.bytes();
    return (w) => alignedCopy(w, bytes);
  }
}

/** Writes an attribute value list of `version`. */
function valueList(values: readonly OutgoingValue[], version: 1 | 3 | 4 | 5): ReplyBody {
  return (w) => {
    w.ulong(values.length);
    for (const v of values)
      if (version >= 4) writeAttributeValue(w, v, version as 4 | 5);
      else writeAttributeValueAny(w, v, version as 1 | 3);
  };
}

/** Copies an `any` encoded at offset 0 of its own buffer into `w` at an 8-aligned offset. */
function alignedCopy(w: CdrWriter, bytes: Uint8Array): void {
  if (w.length % 8 !== 0) throw new RangeError('reply body not 8-aligned');
  w.raw(bytes);
}

/** A request body that cannot be decoded (the server answers MARSHAL); handler errors are DevFailed. */
function isDecodeError(e: unknown): boolean {
  return e instanceof CdrError;
}

function info(
  name: string,
  inType: CommandType,
  outType: CommandType,
  inTypeDesc: string,
  outTypeDesc: string,
  level: 'OPERATOR' | 'EXPERT',
): CommandInfo {
  return { name, level, tag: 0, inType: typeCode(inType), outType: typeCode(outType), inTypeDesc, outTypeDesc };
}

function failedValueConfig(name: string): AttributeConfig {
  const notSpecified = 'Not specified';
  return {
    name,
    writable: 'READ',
    format: 'SCALAR',
    dataType: TangoType.DevString,
    memorized: false,
    maxDimX: 1,
    maxDimY: 0,
    description: 'No description',
    label: name,
    unit: '',
    standardUnit: 'No standard unit',
    displayUnit: 'No display unit',
    displayFormat: '%s',
    minValue: notSpecified,
    maxValue: notSpecified,
    writableAttrName: 'None',
    level: 'OPERATOR',
    enumLabels: [],
    alarms: { minAlarm: notSpecified, maxAlarm: notSpecified, minWarning: notSpecified, maxWarning: notSpecified },
    events: { relChange: notSpecified, absChange: notSpecified, period: notSpecified },
  };
}
