/**
 * Shutters: open/closed with a state machine; an emergency stop closes the shutter.
 * @module
 */
import { checkSignalOptions, Device, transition } from '../../core/index.js';

/** Shutter states. */
export type ShutterState = 'open' | 'closed';

/** A beam shutter. Opening an open shutter or closing a closed one is not allowed. */
export abstract class Shutter extends Device {
  /** open, closed or error. */
  readonly state = this.stateParameter<ShutterState>({
    initial: this.initialState(),
    read: this.readState && ((s) => this.readState!(s)),
  });

  /** The state a new shutter is in (default: open, as Concert's dummy). */
  protected initialState(): ShutterState {
    return 'open';
  }
  /** Reads the state from hardware; undefined: the base keeps it in software. */
  protected readState?(signal: AbortSignal): Promise<ShutterState>;
  protected abstract openHook(signal: AbortSignal): Promise<void>;

  /** How long opening or closing takes (ms), for dry runs; default 0 (backends that know override it). */
  async estimateMotion(): Promise<number> {
    return 0;
  }

  protected abstract closeHook(signal: AbortSignal): Promise<void>;

  /** Opens the shutter (closed → open). An aborted open stays 'closed', so `open()` can be retried. */
  @transition({ source: ['closed'], target: 'open', aborted: 'closed' })
  async open(options: { signal?: AbortSignal } = {}): Promise<void> {
    checkSignalOptions(() => `${this.name}.open`, options);
    await this.operation(options.signal, (s) => this.openHook(s));
  }

  /**
   * Closes the shutter (open → closed). An aborted close stays 'open': the shutter is not known to
   * be closed, so `close()` and the emergency stop still close it.
   */
  @transition({ source: ['open'], target: 'closed', aborted: 'open' })
  async close(options: { signal?: AbortSignal } = {}): Promise<void> {
    checkSignalOptions(() => `${this.name}.close`, options);
    await this.operation(options.signal, (s) => this.closeHook(s));
  }

  /** Closes the shutter if it is not closed already. */
  protected override async stopHook(): Promise<void> {
    const state = await this.getState();
    if (state !== 'closed') {
      await this.closeHook(new AbortController().signal);
      this.state.enter('closed');
    }
  }
}
