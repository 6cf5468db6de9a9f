/**
 * Server-side polling of attributes: each polled attribute is read at its period; the reading
 * goes out as a periodic event, and as a change event when it differs from the previous one.
 * @module
 */
import type { OutgoingValue } from './attribute-io.js';

/** What a poller does with each reading. */
export type PollHandler = (device: string, attribute: string, value: OutgoingValue, changed: boolean) => void;

interface Polled {
  periodMs: number;
  timer: NodeJS.Timeout;
  last: OutgoingValue | undefined;
  busy: boolean;
}

/** True when two readings differ in what a change event reports (value, set point, quality, size). */
export function differs(a: OutgoingValue | undefined, b: OutgoingValue): boolean {
  if (!a) return true;
  if (a.quality !== b.quality || a.dimX !== b.dimX || a.dimY !== b.dimY || a.errors.length !== b.errors.length)
    return true;
  if (a.data.length !== b.data.length) return true;
  for (let i = 0; i < a.data.length; i++) {
    const x = a.data[i];
    const y = b.data[i];
    if (x === y) continue;
    if (typeof x === 'object' && typeof y === 'object' && x && y) {
      const ex = x as { format?: string; data?: Uint8Array };
      const ey = y as { format?: string; data?: Uint8Array };
      if (ex.format === ey.format && ex.data && ey.data && Buffer.compare(ex.data, ey.data) === 0) continue;
    }
    return true;
  }
  return false;
}

/** The polled attributes of one device server. */
export class Poller {
  readonly #polled = new Map<string, Polled>();
  constructor(
    readonly read: (device: string, attribute: string) => Promise<OutgoingValue>,
    readonly handle: PollHandler,
  ) {}

  #key = (device: string, attribute: string): string => `${device}/${attribute}`.toLowerCase();

  /** Starts (or re-times) polling `attribute` of `device` every `periodMs`. */
  start(device: string, attribute: string, periodMs: number): void {
    if (!(periodMs >= 10 && periodMs <= 2 ** 31 - 1))
      throw new RangeError(`polling period must be in [10, ${2 ** 31 - 1}] ms, got ${periodMs}`);
    const key = this.#key(device, attribute);
    this.stop(device, attribute);
    const p: Polled = {
      periodMs,
      last: undefined,
      busy: false,
      timer: setInterval(() => void this.#tick(device, attribute, p), periodMs),
    };
    p.timer.unref();
    this.#polled.set(key, p);
  }

  async #tick(device: string, attribute: string, p: Polled): Promise<void> {
    if (p.busy) return; // a slow read handler: skip the tick rather than pile up reads
    p.busy = true;
    try {
      const v = await this.read(device, attribute);
      const changed = differs(p.last, v);
      p.last = v;
      this.handle(device, attribute, v, changed);
    } finally {
      p.busy = false;
    }
  }

  /** Stops polling `attribute`; false when it was not polled. */
  stop(device: string, attribute: string): boolean {
    const key = this.#key(device, attribute);
    const p = this.#polled.get(key);
    if (!p) return false;
    clearInterval(p.timer);
    this.#polled.delete(key);
    return true;
  }

  /** The polling period of `attribute` (ms), if it is polled. */
  period(device: string, attribute: string): number | undefined {
    return this.#polled.get(this.#key(device, attribute))?.periodMs;
  }

  /** `device/attribute` keys of everything polled, with periods. */
  list(): { key: string; periodMs: number }[] {
    return [...this.#polled].map(([key, p]) => ({ key, periodMs: p.periodMs }));
  }

  /** Stops everything. */
  stopAll(): void {
    for (const p of this.#polled.values()) clearInterval(p.timer);
    this.#polled.clear();
  }
}
