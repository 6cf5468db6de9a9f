/**
 * A simulated X-ray tube (`import { XRayTube } from 'concert/devices/xraytubes/dummy'`).
 * @module
 */
import * as base from './base.js';

/** A simulated X-ray tube, off at start, 0 kV and 0 µA. */
export class DummyXRayTube extends base.XRayTube {
  #kV = 0;
  #uA = 0;
  protected async readVoltage(): Promise<number> {
    return this.#kV;
  }
  protected async writeVoltage(kV: number): Promise<void> {
    this.#kV = kV;
  }
  protected async readCurrent(): Promise<number> {
    return this.#uA;
  }
  protected async writeCurrent(uA: number): Promise<void> {
    this.#uA = uA;
  }
  protected async switchHook(): Promise<void> {}
}

/** The family names users import: `import { XRayTube } from 'concert/devices/xraytubes/dummy'`. */
export { DummyXRayTube as XRayTube };
