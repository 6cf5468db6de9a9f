/**
 * X-ray tubes: on/off, voltage, current and the resulting power (U·I).
 * @module
 */
import { Device, transition, type SetOptions, type Unit } from '../../core/index.js';

/** X-ray tube states. */
export type XRayTubeState = 'on' | 'off';

/** An X-ray tube. `on()`/`off()` switch the beam; an emergency stop switches it off. */
export abstract class XRayTube extends Device {
  /** on, off or error. */
  readonly state = this.stateParameter<XRayTubeState>({ initial: 'off' });

  /** Acceleration voltage. */
  readonly voltage = this.quantity('voltage', {
    unit: 'kV',
    lower: 0,
    help: 'acceleration voltage',
    read: () => this.readVoltage(),
    write: (v) => this.writeVoltage(v),
  });
  /** Tube current. */
  readonly current = this.quantity('current', {
    unit: 'uA',
    lower: 0,
    help: 'tube current',
    read: () => this.readCurrent(),
    write: (v) => this.writeCurrent(v),
  });
  /** Power = voltage × current (read-only). */
  readonly power = this.quantity('power', {
    unit: 'W',
    help: 'power = voltage × current',
    read: async () => (await this.readVoltage()) * 1e3 * (await this.readCurrent()) * 1e-6,
  });

  protected abstract readVoltage(): Promise<number>;
  protected abstract writeVoltage(kV: number): Promise<void>;
  protected abstract readCurrent(): Promise<number>;
  protected abstract writeCurrent(uA: number): Promise<void>;
  protected abstract switchHook(on: boolean): Promise<void>;

  setVoltage(v: Unit, o?: SetOptions): Promise<void> {
    return this.voltage.set(v, o);
  }
  getVoltage(): Promise<Unit> {
    return this.voltage.get();
  }
  setCurrent(v: Unit, o?: SetOptions): Promise<void> {
    return this.current.set(v, o);
  }
  getCurrent(): Promise<Unit> {
    return this.current.get();
  }
  getPower(): Promise<Unit> {
    return this.power.get();
  }

  /** Switches the tube on (off → on). */
  @transition({ source: ['off'], target: 'on' })
  async on(): Promise<void> {
    await this.switchHook(true);
  }

  /** Switches the tube off (on → off). */
  @transition({ source: ['on'], target: 'off' })
  async off(): Promise<void> {
    await this.switchHook(false);
  }

  protected override async stopHook(): Promise<void> {
    if (this.state.current !== 'off') {
      await this.switchHook(false);
      this.state.enter('off');
    }
  }
}
