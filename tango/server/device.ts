/**
 * Writing a Tango device in TypeScript: a declarative definition (attributes with their type,
 * format, access, unit and read/write handlers; commands with their argument types; state and
 * status; async handlers everywhere) checked once by {@link defineDevice}, and the
 * {@link TangoDevice} a device server runs from it.
 * @example
 * ```ts
 * const motor = defineDevice({
 *   className: 'SimpleMotor',
 *   attributes: {
 *     position: { type: 'DevDouble', unit: 'mm', read: () => pos, write: (v) => void (pos = v as number) },
 *   },
 *   commands: { Home: { handler: async () => void (pos = 0) } },
 * });
 * const server = await DeviceServer.create({ server: 'motors', devices: [{ name: 'lab/motor/1', definition: motor }] });
 * ```
 * @module
 */
import { parseOptions, z, zfunction } from '../../core/index.js';
import {
  DEV_STATES,
  TangoType,
  type AttributeConfig,
  type AttrDataFormat,
  type DevState,
  type DispLevel,
} from '../idl-types.js';
import { ATTRIBUTE_TYPES, COMMAND_TYPES, type AttributeType, type CommandType } from './values.js';

/** How an attribute may be accessed. */
export type AttributeAccess = 'READ' | 'WRITE' | 'READ_WRITE';

/** One attribute of a device. */
export interface AttributeDefinition {
  /** Tango data type of the elements. */
  readonly type: AttributeType;
  /** `SCALAR` (default), `SPECTRUM` (a list) or `IMAGE` (rows × columns). */
  readonly format?: AttrDataFormat;
  /** Default: READ_WRITE with both handlers, WRITE with only `write`, else READ. */
  readonly access?: AttributeAccess;
  /** Largest spectrum length / image width (default 1 for scalars, 65536 otherwise). */
  readonly maxDimX?: number;
  /** Largest image height (default 65536 for images, else 0). */
  readonly maxDimY?: number;
  readonly label?: string;
  readonly description?: string;
  /** Unit as Tango shows it (`mm`, `s`). */
  readonly unit?: string;
  /** printf-like display format (`%6.2f`). */
  readonly displayFormat?: string;
  /** Written values below or above these are refused (`API_WAttrOutsideLimit`). */
  readonly minValue?: number;
  readonly maxValue?: number;
  /** Labels of a `DevEnum` attribute (its values are indices). */
  readonly enumLabels?: readonly string[];
  readonly level?: 'OPERATOR' | 'EXPERT';
  readonly memorized?: boolean;
  /** Returns the value: a scalar, an array (spectrum), rows or `{ data, dimX, dimY }` (image). */
  readonly read?: () => unknown;
  /** Takes a written value: a scalar, the elements (spectrum) or `{ data, dimX, dimY }` (image). */
  readonly write?: (value: never) => unknown;
  /** Value and set point of a WRITE attribute before its first write (default: 0, '' or false). */
  readonly initial?: unknown;
  /** The device pushes change events of this attribute itself ({@link TangoDevice.pushChangeEvent}). */
  readonly changeEvents?: boolean;
  /** The server reads the attribute this often (ms) for change and periodic events. */
  readonly pollingPeriodMs?: number;
}

/** One command of a device. */
export interface CommandDefinition {
  /** Argument type (default DevVoid). */
  readonly in?: CommandType;
  /** Result type (default DevVoid). */
  readonly out?: CommandType;
  readonly inDescription?: string;
  readonly outDescription?: string;
  readonly level?: 'OPERATOR' | 'EXPERT';
  /** Runs the command; its result must fit `out`. Throw a DevFailed to choose the reason. */
  readonly handler: (arg: never, device: TangoDevice) => unknown;
}

/** A device class: what {@link defineDevice} checks. */
export interface DeviceDefinition {
  /** Tango class name (`TangoRemoteWalker`). */
  readonly className: string;
  readonly description?: string;
  readonly attributes?: Readonly<Record<string, AttributeDefinition>>;
  readonly commands?: Readonly<Record<string, CommandDefinition>>;
  /** State after `init` (default ON). */
  readonly initialState?: DevState;
  /** Status text (default: `The device is in <state> state.`, following the state). */
  readonly initialStatus?: string;
  /** Runs when the device starts and on the `Init` command. */
  readonly init?: (device: TangoDevice) => unknown;
  /** Runs when the device server stops (close files, stop streams). */
  readonly delete?: (device: TangoDevice) => unknown;
}

const NAME = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'a Tango name (letters, digits, _)');

const ATTRIBUTE = z.strictObject({
  type: z.enum(ATTRIBUTE_TYPES),
  format: z.enum(['SCALAR', 'SPECTRUM', 'IMAGE']).optional(),
  access: z.enum(['READ', 'WRITE', 'READ_WRITE']).optional(),
  maxDimX: z
    .number()
    .int()
    .min(1)
    .max(2 ** 31 - 1)
    .optional(),
  maxDimY: z
    .number()
    .int()
    .min(0)
    .max(2 ** 31 - 1)
    .optional(),
  label: z.string().optional(),
  description: z.string().optional(),
  unit: z.string().optional(),
  displayFormat: z.string().optional(),
  minValue: z.number().optional(),
  maxValue: z.number().optional(),
  enumLabels: z.array(z.string()).optional(),
  level: z.enum(['OPERATOR', 'EXPERT']).optional(),
  memorized: z.boolean().optional(),
  read: zfunction().optional(),
  write: zfunction().optional(),
  initial: z.unknown().optional(),
  changeEvents: z.boolean().optional(),
  pollingPeriodMs: z
    .number()
    .int()
    .min(10)
    .max(2 ** 31 - 1)
    .optional(),
});

const COMMAND = z.strictObject({
  in: z.enum(COMMAND_TYPES).optional(),
  out: z.enum(COMMAND_TYPES).optional(),
  inDescription: z.string().optional(),
  outDescription: z.string().optional(),
  level: z.enum(['OPERATOR', 'EXPERT']).optional(),
  handler: zfunction(),
});

/** The schema of a device definition. */
export const DEVICE_DEFINITION = z.strictObject({
  className: NAME,
  description: z.string().optional(),
  attributes: z.record(NAME, ATTRIBUTE).optional(),
  commands: z.record(NAME, COMMAND).optional(),
  initialState: z.enum(DEV_STATES).optional(),
  initialStatus: z.string().optional(),
  init: zfunction().optional(),
  delete: zfunction().optional(),
});

/** Names every device has. */
const RESERVED_ATTRIBUTES = ['state', 'status'];
const RESERVED_COMMANDS = ['state', 'status', 'init'];

/**
 * Checks a device definition once: names, types, handlers, access against handlers, enum labels.
 * @throws OptionError naming the class and the attribute or command at fault.
 */
export function defineDevice<D extends DeviceDefinition>(definition: D): D {
  parseOptions('defineDevice', DEVICE_DEFINITION, definition);
  const who = `device class ${definition.className}`;
  const seen = new Set<string>();
  for (const [name, a] of Object.entries(definition.attributes ?? {})) {
    const lower = name.toLowerCase();
    if (RESERVED_ATTRIBUTES.includes(lower) || seen.has(lower))
      throw new TypeError(
        `${who}: attribute ${name} is ${seen.has(lower) ? 'defined twice' : 'built in (State and Status are)'}`,
      );
    seen.add(lower);
    const access = accessOf(a);
    if ((access === 'READ' || access === 'READ_WRITE') && !a.read)
      throw new TypeError(`${who}: attribute ${name} is ${access} but has no read handler`);
    if ((access === 'WRITE' || access === 'READ_WRITE') && !a.write)
      throw new TypeError(`${who}: attribute ${name} is ${access} but has no write handler`);
    if (a.type === 'DevEnum' && !a.enumLabels?.length)
      throw new TypeError(`${who}: DevEnum attribute ${name} needs enumLabels`);
  }
  const commands = new Set<string>();
  for (const name of Object.keys(definition.commands ?? {})) {
    const lower = name.toLowerCase();
    if (RESERVED_COMMANDS.includes(lower) || commands.has(lower))
      throw new TypeError(
        `${who}: command ${name} is ${commands.has(lower) ? 'defined twice' : 'built in (State, Status and Init are)'}`,
      );
    commands.add(lower);
  }
  return definition;
}

/** The access an attribute definition ends up with. */
export function accessOf(a: AttributeDefinition): AttributeAccess {
  if (a.access) return a.access;
  if (a.read && a.write) return 'READ_WRITE';
  return a.write ? 'WRITE' : 'READ';
}

/** An attribute of a running device: its definition, its (changeable) configuration and set point. */
export interface AttributeEntry {
  readonly name: string;
  readonly definition: AttributeDefinition;
  readonly access: AttributeAccess;
  config: AttributeConfig;
  /** Elements and dimensions of the last write (the set point), if any. */
  written?: { data: ArrayLike<unknown>; dimX: number; dimY: number };
}

/** A command of a running device. */
export interface CommandEntry {
  readonly name: string;
  readonly definition: CommandDefinition;
}

/** Tango's default status text for a state. */
export const defaultStatus = (state: DevState): string => `The device is in ${state} state.`;

/** What a device server connects to a device (event publishing). */
export interface DeviceHost {
  /** Publishes a change event of `attribute` (value read now, or `value` when given). */
  changed(device: TangoDevice, attribute: string, value?: unknown): void;
}

/** A device a device server runs: its name, class, state, status, attributes and commands. */
export class TangoDevice {
  /** Device name as given (`concert/tango/walker`); clients address it case-insensitively. */
  readonly name: string;
  readonly definition: DeviceDefinition;
  readonly attributes = new Map<string, AttributeEntry>();
  readonly commands = new Map<string, CommandEntry>();
  #state: DevState;
  #status: string | undefined;
  #host: DeviceHost | undefined;

  constructor(name: string, definition: DeviceDefinition) {
    if (!/^[^/\s#]+\/[^/\s#]+\/[^/\s#]+$/.test(name))
      throw new TypeError(`device name must be domain/family/member, got ${JSON.stringify(name)}`);
    defineDevice(definition);
    this.name = name;
    this.definition = definition;
    this.#state = definition.initialState ?? 'ON';
    this.#status = definition.initialStatus;
    for (const [attr, def] of Object.entries(definition.attributes ?? {})) {
      const access = accessOf(def);
      this.attributes.set(attr.toLowerCase(), {
        name: attr,
        definition: def,
        access,
        config: configOf(attr, def, access),
      });
    }
    for (const [cmd, def] of Object.entries(definition.commands ?? {}))
      this.commands.set(cmd.toLowerCase(), { name: cmd, definition: def });
  }

  /** The Tango class name. */
  get className(): string {
    return this.definition.className;
  }

  get state(): DevState {
    return this.#state;
  }

  get status(): string {
    return this.#status ?? defaultStatus(this.#state);
  }

  /** Sets the state (and the status when given; otherwise the status follows the state). */
  setState(state: DevState, status?: string): void {
    if (!(DEV_STATES as readonly string[]).includes(state))
      throw new TypeError(`${this.name}: ${String(state)} is not a DevState (allowed: ${DEV_STATES.join(', ')})`);
    const changed = state !== this.#state;
    this.#state = state;
    if (status !== undefined) this.#status = status;
    if (changed) this.#host?.changed(this, 'State', state);
  }

  /** Sets the status text. */
  setStatus(status: string): void {
    this.#status = status;
  }

  /**
   * Tells subscribed clients that `attribute` changed (its value is read through its handler, or
   * `value` is sent as it is).
   */
  pushChangeEvent(attribute: string, value?: unknown): void {
    this.#host?.changed(this, attribute, value);
  }

  /** @internal Connects the device to its server. */
  attach(host: DeviceHost | undefined): void {
    this.#host = host;
  }

  /** Runs the definition's `init` (at start and on `Init`). */
  async init(): Promise<void> {
    this.#state = this.definition.initialState ?? 'ON';
    this.#status = this.definition.initialStatus;
    await this.definition.init?.(this);
  }
}

/** The Tango configuration of an attribute from its definition. */
function configOf(name: string, a: AttributeDefinition, access: AttributeAccess): AttributeConfig {
  const format = a.format ?? 'SCALAR';
  const level: DispLevel = a.level ?? 'OPERATOR';
  const notSpecified = 'Not specified';
  return {
    name,
    writable: access,
    format,
    dataType: typeCodeOf(a.type),
    memorized: a.memorized ?? false,
    maxDimX: a.maxDimX ?? (format === 'SCALAR' ? 1 : 65536),
    maxDimY: a.maxDimY ?? (format === 'IMAGE' ? 65536 : 0),
    description: a.description ?? 'No description',
    label: a.label ?? name,
    unit: a.unit ?? '',
    standardUnit: 'No standard unit',
    displayUnit: 'No display unit',
    displayFormat: a.displayFormat ?? defaultFormat(a.type),
    minValue: a.minValue === undefined ? notSpecified : String(a.minValue),
    maxValue: a.maxValue === undefined ? notSpecified : String(a.maxValue),
    writableAttrName: 'None',
    level,
    enumLabels: a.enumLabels ?? [],
    alarms: { minAlarm: notSpecified, maxAlarm: notSpecified, minWarning: notSpecified, maxWarning: notSpecified },
    events: {
      relChange: notSpecified,
      absChange: notSpecified,
      period: a.pollingPeriodMs ? String(a.pollingPeriodMs) : notSpecified,
    },
  };
}

function defaultFormat(type: AttributeType): string {
  switch (type) {
    case 'DevFloat':
    case 'DevDouble':
      return '%6.2f';
    case 'DevString':
    case 'DevEncoded':
    case 'DevState':
    case 'DevEnum':
      return '%s';
    default:
      return '%d';
  }
}

function typeCodeOf(type: AttributeType): number {
  return TangoType[type];
}
