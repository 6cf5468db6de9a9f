/**
 * A dummy storage ring for suspender tests: its `current` (mA) is set by the test to simulate a
 * beam loss and its recovery.
 */
import { Device, soft, type Quantity } from '../../../core/index.js';

export class DummyRing extends Device {
  /** Ring current. */
  readonly current: Quantity = this.quantity('current', { unit: 'mA', help: 'ring current', ...soft(200) });

  /** Sets the current at once (a beam loss, a refill). */
  async setCurrent(mA: number): Promise<void> {
    await this.current.set(this.current.quantity(mA));
  }

  /** The current in mA. */
  async mA(): Promise<number> {
    return (await this.current.get()).toNumber('mA');
  }
}
