/**
 * A shutter backed by a Tango device: `import { Shutter } from 'concert/devices/shutters/tango'`.
 *
 * Mapping (names configurable): the `Open` and `Close` commands, and the device State — `OPEN` →
 * open, `CLOSE` → closed; while it is `MOVING` an open or close waits (polled), and the state is
 * reported as before the move; FAULT, ALARM, UNKNOWN and other states put the shutter into
 * `'error'` with the device status.
 * @example
 * ```ts
 * import { Shutter } from 'concert/devices/shutters/tango';
 * const shutter = await Shutter.create({ name: 'shutter', device: 'tango://ctrl:10000/fe/shutter/1#dbase=no' });
 * await shutter.close();
 * ```
 * @module
 */
import { ConcertError, OptionError, sleep, z } from '../../core/index.js';
import { DEV_STATES, type DeviceProxy, type DevState } from '../../tango/index.js';
import { abortable, commandNames, connectProxy, TANGO_DEVICE_OPTIONS } from '../tango-support.js';
import * as base from './base.js';

/** The options of the Tango {@link TangoShutter}. */
export const TANGO_SHUTTER_OPTIONS = TANGO_DEVICE_OPTIONS.extend({
  /** Open command (default `Open`). */
  openCommand: z.string().optional(),
  /** Close command (default `Close`). */
  closeCommand: z.string().optional(),
  /** Device state meaning open (default `OPEN`; e.g. `EXTRACT` for a beam stop). */
  openState: z.enum(DEV_STATES).optional(),
  /** Device state meaning closed (default `CLOSE`; e.g. `INSERT` for a beam stop). */
  closedState: z.enum(DEV_STATES).optional(),
  /** How often the State is polled while the shutter moves (ms, default 10). */
  pollIntervalMs: z.number().min(1).max(10000).optional(),
});

/** Options of the Tango {@link TangoShutter}. */
export type TangoShutterOptions = z.input<typeof TANGO_SHUTTER_OPTIONS>;

/** The shutter device is in a state that is neither open, closed nor moving. */
export class TangoShutterFault extends ConcertError {
  override name = 'TangoShutterFault';
}

/** A shutter backed by a Tango device. */
export class TangoShutter extends base.Shutter {
  static override readonly options = TANGO_SHUTTER_OPTIONS;

  /** The Tango device. @internal Valid after create(). */
  proxy!: DeviceProxy;
  readonly #o: Required<Omit<TangoShutterOptions, 'name' | 'timeoutMs'>> & Pick<TangoShutterOptions, 'timeoutMs'>;

  constructor(options: TangoShutterOptions) {
    super(options);
    if (typeof options?.device !== 'string')
      throw new OptionError(`${this.kind}.create: option 'device' (the Tango device address) is required`);
    this.#o = {
      device: options.device,
      timeoutMs: options.timeoutMs,
      openCommand: options.openCommand ?? 'Open',
      closeCommand: options.closeCommand ?? 'Close',
      openState: options.openState ?? 'OPEN',
      closedState: options.closedState ?? 'CLOSE',
      pollIntervalMs: options.pollIntervalMs ?? 10,
    };
  }

  protected override async connect(): Promise<void> {
    const proxy = await connectProxy(this.name, this.#o);
    try {
      const commands = await commandNames(proxy);
      for (const c of [this.#o.openCommand, this.#o.closeCommand])
        if (!commands.has(c.toLowerCase()))
          throw new OptionError(`${this.name}: the Tango device ${proxy.name} has no command '${c}'`);
      this.proxy = proxy;
      // Start from what the hardware says, so the first transition is checked against it.
      this.state.enter(await this.readState());
    } catch (error) {
      await proxy.close();
      throw error;
    }
  }

  protected override async disconnectHook(): Promise<void> {
    await this.proxy?.close();
  }

  protected override async readState(): Promise<base.ShutterState> {
    const state = await this.proxy.state();
    if (state === this.#o.openState) return 'open';
    if (state === this.#o.closedState) return 'closed';
    if (state === 'MOVING') return this.state.current as base.ShutterState; // not there yet: as before the move
    const fault = new TangoShutterFault(
      `${this.name}: the Tango device ${this.proxy.name} is in ${state}: ${await this.proxy.status().catch(() => '?')}`,
    );
    this.state.enter('error', fault);
    return 'error' as base.ShutterState;
  }

  protected async openHook(signal: AbortSignal): Promise<void> {
    await this.#drive(this.#o.openCommand, this.#o.openState, signal);
  }

  protected async closeHook(signal: AbortSignal): Promise<void> {
    await this.#drive(this.#o.closeCommand, this.#o.closedState, signal);
  }

  /** Runs `command` and polls the State until it is `goal`. */
  async #drive(command: string, goal: DevState, signal: AbortSignal): Promise<void> {
    await abortable(this.proxy.command(command), signal);
    for (;;) {
      const state = await abortable(this.proxy.state(), signal);
      if (state === goal) return;
      if (state !== 'MOVING')
        throw new TangoShutterFault(
          `${this.name}: ${command} left the Tango device ${this.proxy.name} in ${state}: ${await this.proxy.status().catch(() => '?')}`,
        );
      await sleep(this.#o.pollIntervalMs, signal);
    }
  }
}

/** The family names users import: `import { Shutter } from 'concert/devices/shutters/tango'`. */
export { TangoShutter as Shutter };
