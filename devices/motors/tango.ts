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
import { ConcertError, format, HardLimitError, OptionError, sleep, TransitionNotAllowed, z } from '../../core/index.js';
import type { DeviceProxy, DevState } from '../../tango/index.js';
import {
  abortable,
  commandNames,
  connectProxy,
  requireAttributes,
  TANGO_DEVICE_OPTIONS,
  unitScale,
} from '../tango-support.js';
import * as base from './base.js';

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
  /** How often the State is polled while moving (ms, default 10). */
  pollIntervalMs: z.number().min(1).max(10000).optional(),
});

/** Options of the Tango motors. */
export type TangoMotorOptions = z.input<typeof TANGO_MOTOR_OPTIONS>;

/** The device reports a fault (Tango FAULT or UNKNOWN state). */
export class TangoMotorFault extends ConcertError {
  override name = 'TangoMotorFault';
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AbstractMotor = abstract new (...args: any[]) => base.Motor;

/** What a polled Tango state means for a motor. */
type Reading = base.MotorState | 'fault';

function TangoBacked<B extends AbstractMotor>(Base: B) {
  abstract class TangoMotor extends Base {
    /** The Tango device. @internal Exposed for tests and advanced use; valid after create(). */
    proxy!: DeviceProxy;
    protected readonly tango: Required<
      Omit<TangoMotorOptions, 'name' | 'timeoutMs' | 'lowerLimitAttribute' | 'upperLimitAttribute'>
    > &
      Pick<TangoMotorOptions, 'timeoutMs' | 'lowerLimitAttribute' | 'upperLimitAttribute'>;
    /** Device units per position unit (1 unless the attribute has another known unit). */
    protected scale = 1;
    #hasHome = false;
    #hasPower = false;
    /** A move or homing started here is running: a second one is refused at once. */
    protected busy = false;

    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    constructor(...args: any[]) {
      super(...args);
      const o = (args[0] ?? {}) as TangoMotorOptions;
      if (typeof o.device !== 'string')
        throw new OptionError(`${this.kind}.create: option 'device' (the Tango device address) is required`);
      this.tango = {
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
      };
    }

    /** Attributes that must exist (continuous motors add the velocity). */
    protected requiredAttributes(): string[] {
      const t = this.tango;
      return [t.positionAttribute, t.lowerLimitAttribute, t.upperLimitAttribute].filter(
        (n): n is string => n !== undefined,
      );
    }

    protected override async connect(): Promise<void> {
      const proxy = await connectProxy(this.name, this.tango);
      try {
        await requireAttributes(this.name, proxy, this.requiredAttributes());
        const commands = await commandNames(proxy);
        const t = this.tango;
        if (!commands.has(t.stopCommand.toLowerCase()))
          throw new OptionError(
            `${this.name}: the Tango device ${proxy.name} has no command '${t.stopCommand}' (option stopCommand)`,
          );
        this.#hasHome = commands.has(t.homeCommand.toLowerCase());
        this.#hasPower = commands.has(t.onCommand.toLowerCase()) && commands.has(t.offCommand.toLowerCase());
        const [config] = await proxy.attributeConfig([t.positionAttribute]);
        this.scale = unitScale(config!.unit, this.position.unit, (m) => this.log.warn(m));
        const limit = (s: string) =>
          s.trim() === '' || !Number.isFinite(Number(s)) ? undefined : Number(s) / this.scale;
        this.position.setExternalLimits(limit(config!.minValue), limit(config!.maxValue));
      } catch (error) {
        await proxy.close();
        throw error;
      }
      this.proxy = proxy;
    }

    protected override async disconnectHook(): Promise<void> {
      await this.proxy?.close();
    }

    protected async readPosition(): Promise<number> {
      return Number((await this.proxy.readAttribute(this.tango.positionAttribute)).value) / this.scale;
    }

    protected override async readTargetPosition(): Promise<number> {
      const a = await this.proxy.readAttribute(this.tango.positionAttribute);
      return Number(a.writeValue ?? a.value) / this.scale;
    }

    protected override async readState(): Promise<base.MotorState> {
      if (!this.#hasPower && this.state.current === 'disabled') return 'disabled';
      const reading = await this.#read();
      if (reading !== 'fault') return reading;
      this.state.enter(
        'error',
        new TangoMotorFault(
          `${this.name}: the Tango device ${this.proxy.name} is in FAULT: ${await this.proxy.status().catch(() => '?')}`,
        ),
      );
      return 'error' as base.MotorState;
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
          const t = this.tango;
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

    /** Refuses a second move at once (the hardware state may not say MOVING yet). */
    protected async exclusiveMotion<T>(method: string, fn: () => Promise<T>): Promise<T> {
      if (this.busy)
        throw new TransitionNotAllowed(
          `${this.name}.${method}() is not allowed in state 'moving' (allowed in: standby, hard-limit)`,
          'moving',
        );
      this.busy = true;
      try {
        return await fn();
      } finally {
        this.busy = false;
      }
    }

    protected override moveTo(target: number, signal: AbortSignal): Promise<void> {
      return this.exclusiveMotion('moveTo', () => super.moveTo(target, signal));
    }

    override home(options: { signal?: AbortSignal } = {}): Promise<void> {
      return this.exclusiveMotion('home', () => super.home(options));
    }

    protected async moveHook(target: number, signal: AbortSignal): Promise<void> {
      await this.#motion(
        signal,
        () => this.proxy.writeAttribute(this.tango.positionAttribute, target * this.scale),
        target,
      );
    }

    protected override async homeHook(signal: AbortSignal): Promise<void> {
      if (!this.#hasHome) return super.homeHook(signal);
      await this.#motion(signal, () => this.proxy.command(this.tango.homeCommand), undefined);
    }

    /** Starts a motion with `start`, then polls the State until the device leaves MOVING; an abort sends Stop. */
    async #motion(signal: AbortSignal, start: () => Promise<unknown>, target: number | undefined): Promise<void> {
      try {
        await abortable(start(), signal);
        for (;;) {
          const reading = await abortable(this.#read(), signal);
          if (reading === 'moving') {
            await sleep(this.tango.pollIntervalMs, signal);
            continue;
          }
          if (reading === 'hard-limit') {
            const here = this.position.quantity(await this.readPosition());
            const goal = target === undefined ? 'home' : format(this.position.quantity(target));
            throw new HardLimitError(
              `${this.position.fullName}: hit the hard limit at ${format(here)} while moving to ${goal}`,
            );
          }
          if (reading === 'fault')
            throw new TangoMotorFault(
              `${this.position.fullName}: the Tango device ${this.proxy.name} went to FAULT: ${await this.proxy.status()}`,
            );
          if (reading === 'disabled')
            throw new TangoMotorFault(
              `${this.position.fullName}: the Tango device ${this.proxy.name} was switched off during the move`,
            );
          return;
        }
      } catch (error) {
        if (signal.aborted) {
          await this.proxy
            .command(this.tango.stopCommand)
            .catch((e: unknown) => this.log.warn('Stop after an abort failed', e));
          throw signal.reason;
        }
        throw error;
      }
    }

    protected async stopMotion(): Promise<void> {
      await this.proxy.command(this.tango.stopCommand);
      if (this.state.current === 'moving') this.state.enter('standby');
    }

    protected override async enableHook(enable: boolean): Promise<void> {
      if (this.#hasPower) await this.proxy.command(enable ? this.tango.onCommand : this.tango.offCommand);
    }
  }
  return TangoMotor;
}

/** A linear motor (position in mm) backed by a Tango device. */
export class LinearMotor extends TangoBacked(base.LinearMotor) {
  static override readonly options = TANGO_MOTOR_OPTIONS;
  constructor(options: TangoMotorOptions) {
    super(options);
  }
}

/** A rotation motor (position in degrees) backed by a Tango device. */
export class RotationMotor extends TangoBacked(base.RotationMotor) {
  static override readonly options = TANGO_MOTOR_OPTIONS;
  constructor(options: TangoMotorOptions) {
    super(options);
  }
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
function ContinuousTango<B extends abstract new (...args: any[]) => InstanceType<ReturnType<typeof TangoBacked>>>(
  Base: B,
) {
  abstract class ContinuousTangoMotor extends base.Continuous(Base) {
    protected override requiredAttributes(): string[] {
      return [...super.requiredAttributes(), this.tango.velocityAttribute];
    }

    protected async readVelocity(): Promise<number> {
      return Number((await this.proxy.readAttribute(this.tango.velocityAttribute)).value) / this.scale;
    }

    protected async writeVelocity(velocity: number): Promise<void> {
      if (this.busy) {
        // Velocity 0 means "no continuous motion": it must not cut a positioning move short.
        if (velocity === 0) return;
        throw new TransitionNotAllowed(
          `${this.name}.velocity cannot be set while the motor moves to a position (stop() it first)`,
          'moving',
        );
      }
      await this.proxy.writeAttribute(this.tango.velocityAttribute, velocity * this.scale);
      this.state.enter(velocity === 0 ? 'standby' : 'moving');
    }
  }
  return ContinuousTangoMotor;
}

/** A linear motor that also runs at a constant `velocity` (mm/s), backed by a Tango device. */
export class ContinuousLinearMotor extends ContinuousTango(TangoBacked(base.LinearMotor)) {
  static override readonly options = TANGO_MOTOR_OPTIONS;
  constructor(options: TangoMotorOptions) {
    super(options);
  }
}

/** A rotation motor that also rotates at a constant `velocity` (deg/s), backed by a Tango device. */
export class ContinuousRotationMotor extends ContinuousTango(TangoBacked(base.RotationMotor)) {
  static override readonly options = TANGO_MOTOR_OPTIONS;
  constructor(options: TangoMotorOptions) {
    super(options);
  }
}
