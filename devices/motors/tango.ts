/**
 * Motors backed by a Tango device: `import { LinearMotor } from 'concert/devices/motors/tango'`.
 *
 * Mapping (every name configurable): the `position` attribute (read: position, write: start a
 * move, set point: target; its `min_value`/`max_value` become external limits), the `velocity`
 * attribute of continuous motors (≠ 0 runs, 0 stops), the device State (MOVING/RUNNING → moving,
 * ON/STANDBY → standby, ALARM → hard-limit, FAULT at an end switch → hard-limit and otherwise
 * error, OFF/DISABLE → disabled), the `Stop`, `Home`, `On` and `Off` commands, and optional
 * boolean end-switch attributes. A move ends when the device leaves MOVING (polled); aborting it
 * sends `Stop`.
 * @example
 * ```ts
 * import { RotationMotor } from 'concert/devices/motors/tango';
 * const tomo = await RotationMotor.create({ name: 'tomo', device: 'tango://ctrl:10000/motor/tomo/1#dbase=no' });
 * await tomo.setPosition(q('90 deg'));
 * ```
 * @module
 */
import { ConcertError, format, HardLimitError, OptionError, sleep, z } from '../../core/index.js';
import type { AttributeReading, DeviceProxy, DevState } from '../../tango/index.js';

/** How long dry runs reuse a motor's speed and acceleration readings (ms). */
const PROFILE_CACHE_MS = 500;
import {
  abortable,
  commandNames,
  connectProxy,
  requireAttributes,
  TANGO_DEVICE_OPTIONS,
  unitScale,
} from '../tango-support.js';
import * as base from './base.js';
import type { MotionContext, MotionEstimate, MotorState, VelocityMotion } from './motion.js';

/** The options of the Tango motors. Attribute and command names are case-insensitive, as in Tango. */
export const TANGO_MOTOR_OPTIONS = TANGO_DEVICE_OPTIONS.extend({
  /** Position attribute (default `position`); its unit, when mathjs knows it, is converted. */
  positionAttribute: z.string().optional(),
  /** Continuous velocity attribute of the continuous motors (default `velocity`). */
  velocityAttribute: z.string().optional(),
  /** Stop command (default `Stop`). */
  stopCommand: z.string().optional(),
  /** Homing command (default `Home`; used when the device has it, else home() moves to 0). */
  homeCommand: z.string().optional(),
  /** Power-on command (default `On`; without it disable() only blocks moves in software). */
  onCommand: z.string().optional(),
  /** Power-off command (default `Off`). */
  offCommand: z.string().optional(),
  /** Boolean end-switch attribute (default none): tells a limit from other ALARM/FAULT causes. */
  lowerLimitAttribute: z.string().optional(),
  /** Boolean end-switch attribute (default none). */
  upperLimitAttribute: z.string().optional(),
  /**
   * Positioning speed attribute, read by dry runs (default: `speed`, or `velocity` on motors that
   * are not continuous, whichever the device has). In position units per second.
   */
  speedAttribute: z.string().optional(),
  /** Acceleration attribute, read by dry runs (default `acceleration` if the device has it); units per s². */
  accelerationAttribute: z.string().optional(),
  /** How often the State is polled while moving (ms, default 10). */
  pollIntervalMs: z.number().min(1).max(10000).optional(),
});

/** Options of the Tango motors. */
export type TangoMotorOptions = z.input<typeof TANGO_MOTOR_OPTIONS>;

/** The device reports a fault (Tango FAULT or UNKNOWN state). */
export class TangoMotorFault extends ConcertError {
  override name = 'TangoMotorFault';
}

/** What a polled Tango state means for a motor. */
type Reading = MotorState | 'fault';

/** The Tango names and timings a {@link TangoMotion} uses, defaults filled in. */
type TangoMotorConfig = Required<
  Omit<
    TangoMotorOptions,
    'name' | 'timeoutMs' | 'lowerLimitAttribute' | 'upperLimitAttribute' | 'speedAttribute' | 'accelerationAttribute'
  >
> &
  Pick<
    TangoMotorOptions,
    'timeoutMs' | 'lowerLimitAttribute' | 'upperLimitAttribute' | 'speedAttribute' | 'accelerationAttribute'
  >;

/**
 * The motion part of the Tango motors: writes the position attribute (or runs `Home`), polls the
 * device State until it leaves MOVING, sends `Stop` on abort, and reads State, end switches and
 * the velocity attribute.
 */
export class TangoMotion implements VelocityMotion {
  readonly #options: TangoMotorOptions;
  readonly #continuous: boolean;
  #config!: TangoMotorConfig;
  #motor!: MotionContext;
  #proxy: DeviceProxy | undefined;
  /** Device units per position unit (1 unless the attribute has another known unit). */
  #scale = 1;
  #hasHome = false;
  #hasPower = false;
  /** The attributes dry runs read (undefined: the device has none). */
  #speedAttribute: string | undefined;
  #accelerationAttribute: string | undefined;
  #profileCache: { at: number; values: AttributeReading[] } | undefined;

  /** @param continuous Whether the motor also runs at a velocity (the velocity attribute must exist). */
  constructor(options: TangoMotorOptions, { continuous = false }: { continuous?: boolean } = {}) {
    this.#options = options;
    this.#continuous = continuous;
  }

  bind(motor: MotionContext): void {
    const o = this.#options;
    if (typeof o?.device !== 'string')
      throw new OptionError(`${motor.kind}.create: option 'device' (the Tango device address) is required`);
    this.#config = {
      device: o.device,
      timeoutMs: o.timeoutMs,
      positionAttribute: o.positionAttribute ?? 'position',
      velocityAttribute: o.velocityAttribute ?? 'velocity',
      stopCommand: o.stopCommand ?? 'Stop',
      homeCommand: o.homeCommand ?? 'Home',
      onCommand: o.onCommand ?? 'On',
      offCommand: o.offCommand ?? 'Off',
      lowerLimitAttribute: o.lowerLimitAttribute,
      upperLimitAttribute: o.upperLimitAttribute,
      pollIntervalMs: o.pollIntervalMs ?? 10,
      speedAttribute: o.speedAttribute,
      accelerationAttribute: o.accelerationAttribute,
    };
    this.#motor = motor;
  }

  /** The Tango device (valid after `create()`). */
  get proxy(): DeviceProxy {
    if (!this.#proxy) throw new OptionError(`${this.#motor.name}: not connected to its Tango device (use create())`);
    return this.#proxy;
  }

  async connect(): Promise<void> {
    const t = this.#config;
    const motor = this.#motor;
    const proxy = await connectProxy(motor.name, t);
    try {
      const attributes = [
        t.positionAttribute,
        t.lowerLimitAttribute,
        t.upperLimitAttribute,
        t.speedAttribute,
        t.accelerationAttribute,
      ];
      if (this.#continuous) attributes.push(t.velocityAttribute);
      await requireAttributes(
        motor.name,
        proxy,
        attributes.filter((n): n is string => n !== undefined),
      );
      const present = new Map((await proxy.attributeList()).map((n) => [n.toLowerCase(), n]));
      const first = (...names: string[]) => names.map((n) => present.get(n.toLowerCase())).find((n) => n !== undefined);
      this.#speedAttribute = t.speedAttribute ?? first('speed', ...(this.#continuous ? [] : ['velocity']));
      this.#accelerationAttribute = t.accelerationAttribute ?? first('acceleration');
      const commands = await commandNames(proxy);
      if (!commands.has(t.stopCommand.toLowerCase()))
        throw new OptionError(
          `${motor.name}: the Tango device ${proxy.name} has no command '${t.stopCommand}' (option stopCommand)`,
        );
      this.#hasHome = commands.has(t.homeCommand.toLowerCase());
      this.#hasPower = commands.has(t.onCommand.toLowerCase()) && commands.has(t.offCommand.toLowerCase());
      const [config] = await proxy.attributeConfig([t.positionAttribute]);
      this.#scale = unitScale(config!.unit, motor.position.unit, (m) => motor.log.warn(m));
      const limit = (s: string) =>
        s.trim() === '' || !Number.isFinite(Number(s)) ? undefined : Number(s) / this.#scale;
      motor.position.setExternalLimits(limit(config!.minValue), limit(config!.maxValue));
    } catch (error) {
      await proxy.close();
      throw error;
    }
    this.#proxy = proxy;
  }

  async disconnect(): Promise<void> {
    await this.#proxy?.close();
  }

  async readPosition(): Promise<number> {
    return Number((await this.proxy.readAttribute(this.#config.positionAttribute)).value) / this.#scale;
  }

  async readTargetPosition(): Promise<number> {
    const a = await this.proxy.readAttribute(this.#config.positionAttribute);
    return Number(a.writeValue ?? a.value) / this.#scale;
  }

  async readState(): Promise<MotorState | 'error'> {
    const motor = this.#motor;
    if (!this.#hasPower && motor.state.current === 'disabled') return 'disabled';
    const reading = await this.#read();
    if (reading !== 'fault') return reading;
    motor.state.enter(
      'error',
      new TangoMotorFault(
        `${motor.name}: the Tango device ${this.proxy.name} is in FAULT: ${await this.proxy.status().catch(() => '?')}`,
      ),
    );
    return 'error';
  }

  /** The device state as a motor state; end-switch attributes, when configured, decide ALARM/FAULT. */
  async #read(): Promise<Reading> {
    const state: DevState = await this.proxy.state();
    switch (state) {
      case 'MOVING':
      case 'RUNNING':
      case 'INIT':
        return 'moving';
      case 'OFF':
      case 'DISABLE':
        return 'disabled';
      case 'ALARM':
      case 'FAULT': {
        const t = this.#config;
        const switches = [t.lowerLimitAttribute, t.upperLimitAttribute].filter((n): n is string => n !== undefined);
        if (switches.length === 0) return state === 'ALARM' ? 'hard-limit' : 'fault';
        const values = await this.proxy.readAttributes(switches);
        if (values.some((v) => v.value === true)) return 'hard-limit';
        return state === 'ALARM' ? 'standby' : 'fault';
      }
      case 'UNKNOWN':
        return 'fault';
      default:
        return 'standby';
    }
  }

  async moveTo(target: number, signal: AbortSignal): Promise<void> {
    await this.#motion(
      signal,
      () => this.proxy.writeAttribute(this.#config.positionAttribute, target * this.#scale),
      target,
    );
  }

  async home(signal: AbortSignal): Promise<void> {
    if (!this.#hasHome) return this.moveTo(0, signal);
    await this.#motion(signal, () => this.proxy.command(this.#config.homeCommand), undefined);
  }

  /** Starts a motion with `start`, then polls the State until the device leaves MOVING; an abort sends Stop. */
  async #motion(signal: AbortSignal, start: () => Promise<unknown>, target: number | undefined): Promise<void> {
    const position = this.#motor.position;
    try {
      await abortable(start(), signal);
      for (;;) {
        const reading = await abortable(this.#read(), signal);
        if (reading === 'moving') {
          await sleep(this.#config.pollIntervalMs, signal);
          continue;
        }
        if (reading === 'hard-limit') {
          const here = position.quantity(await this.readPosition());
          const goal = target === undefined ? 'home' : format(position.quantity(target));
          throw new HardLimitError(
            `${position.fullName}: hit the hard limit at ${format(here)} while moving to ${goal}`,
          );
        }
        if (reading === 'fault')
          throw new TangoMotorFault(
            `${position.fullName}: the Tango device ${this.proxy.name} went to FAULT: ${await this.proxy.status()}`,
          );
        if (reading === 'disabled')
          throw new TangoMotorFault(
            `${position.fullName}: the Tango device ${this.proxy.name} was switched off during the move`,
          );
        return;
      }
    } catch (error) {
      if (signal.aborted) {
        await this.proxy
          .command(this.#config.stopCommand)
          .catch((e: unknown) => this.#motor.log.warn('Stop after an abort failed', e));
        throw signal.reason;
      }
      throw error;
    }
  }

  async stop(): Promise<void> {
    await this.proxy.command(this.#config.stopCommand);
  }

  async enable(on: boolean): Promise<void> {
    if (this.#hasPower) await this.proxy.command(on ? this.#config.onCommand : this.#config.offCommand);
  }

  /**
   * The time of a trapezoidal move at the device's speed and acceleration (read from the device
   * each time, so a dry run sees what the controller is set to); without an acceleration
   * attribute, at constant speed.
   */
  async estimateMove(from: number, to: number): Promise<MotionEstimate> {
    const speedName = this.#speedAttribute;
    if (speedName === undefined)
      return {
        unknown:
          `the Tango device ${this.proxy.name} has no speed attribute ` +
          `(option speedAttribute; looked for 'speed'${this.#continuous ? '' : " and 'velocity'"})`,
      };
    const values = await this.#profile(speedName);
    const speed = Math.abs(Number(values[0]!.value)) / this.#scale;
    const acceleration = values[1] === undefined ? Infinity : Math.abs(Number(values[1].value)) / this.#scale;
    if (!(speed > 0) || !Number.isFinite(speed))
      return { unknown: `the Tango device ${this.proxy.name} reports ${speedName} = ${String(values[0]!.value)}` };
    return { durationMs: trapezoidMs(Math.abs(to - from), speed, acceleration) };
  }

  /**
   * The speed and acceleration readings, kept for half a second: a dry run of a stepped scan asks
   * for thousands of moves, and reads the device once.
   */
  async #profile(speedName: string): Promise<AttributeReading[]> {
    const now = performance.now();
    if (this.#profileCache && now - this.#profileCache.at < PROFILE_CACHE_MS) return this.#profileCache.values;
    const names = [speedName, ...(this.#accelerationAttribute ? [this.#accelerationAttribute] : [])];
    const values = await this.proxy.readAttributes(names);
    this.#profileCache = { at: now, values };
    return values;
  }

  async estimateRamp(velocity: number): Promise<number> {
    if (!this.#accelerationAttribute) return 0;
    const a = Math.abs(Number((await this.proxy.readAttribute(this.#accelerationAttribute)).value)) / this.#scale;
    return a > 0 && Number.isFinite(a) ? (Math.abs(velocity) / a) * 1000 : 0;
  }

  async readVelocity(): Promise<number> {
    return Number((await this.proxy.readAttribute(this.#config.velocityAttribute)).value) / this.#scale;
  }

  async runAt(velocity: number): Promise<void> {
    await this.proxy.writeAttribute(this.#config.velocityAttribute, velocity * this.#scale);
  }
}

/**
 * The time (ms) to travel `distance` at top speed `speed` with `acceleration` (both ways):
 * d/v + v/a when the top speed is reached, 2·√(d/a) otherwise.
 * @internal
 */
export function trapezoidMs(distance: number, speed: number, acceleration: number): number {
  if (distance === 0) return 0;
  if (!Number.isFinite(acceleration) || acceleration <= 0) return (distance / speed) * 1000;
  const seconds =
    distance >= (speed * speed) / acceleration
      ? distance / speed + speed / acceleration
      : 2 * Math.sqrt(distance / acceleration);
  return seconds * 1000;
}

/** A linear motor (position in mm) backed by a Tango device. */
export class TangoLinearMotor extends base.LinearMotor<TangoMotion> {
  static override readonly options = TANGO_MOTOR_OPTIONS;
  constructor(options: TangoMotorOptions) {
    super(options, new TangoMotion(options));
  }
}

/** A rotation motor (position in degrees) backed by a Tango device. */
export class TangoRotationMotor extends base.RotationMotor<TangoMotion> {
  static override readonly options = TANGO_MOTOR_OPTIONS;
  constructor(options: TangoMotorOptions) {
    super(options, new TangoMotion(options));
  }
}

/** A linear motor that also runs at a constant `velocity` (mm/s), backed by a Tango device. */
export class TangoContinuousLinearMotor extends base.ContinuousLinearMotor<TangoMotion> {
  static override readonly options = TANGO_MOTOR_OPTIONS;
  constructor(options: TangoMotorOptions) {
    super(options, new TangoMotion(options, { continuous: true }));
  }
}

/** A rotation motor that also rotates at a constant `velocity` (deg/s), backed by a Tango device. */
export class TangoContinuousRotationMotor extends base.ContinuousRotationMotor<TangoMotion> {
  static override readonly options = TANGO_MOTOR_OPTIONS;
  constructor(options: TangoMotorOptions) {
    super(options, new TangoMotion(options, { continuous: true }));
  }
}

/** The family names users import: `import { LinearMotor } from 'concert/devices/motors/tango'`. */
export {
  TangoContinuousLinearMotor as ContinuousLinearMotor,
  TangoContinuousRotationMotor as ContinuousRotationMotor,
  TangoLinearMotor as LinearMotor,
  TangoRotationMotor as RotationMotor,
};
