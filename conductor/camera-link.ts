/**
 * The conductor's connection to one camera server: checks that it answers and is a camera,
 * measures its clock offset and the round-trip time, attaches (logs and heartbeats), and applies
 * the configured settings, reporting each refused one with the camera's name.
 * @module
 * @internal
 */
import { errorMessage, preciseNow, q, type Unit } from '../core/index.js';
import { ControlClient, type CurveClientOptions } from '../transport/zmq/index.js';
import { BACKEND_SETTINGS, type ResolvedCamera } from './config/schema.js';
import type { ArmResult, AttachResult, Heartbeat, RecordingSummary, StartParams, StartResult } from './protocol.js';

/** A value on the wire: quantities as a number and a unit. */
type WireValue = { value: number; unit: string } | string | number | boolean;

/** One camera server, as the conductor sees it. */
export class CameraLink {
  readonly name: string;
  readonly config: ResolvedCamera;
  readonly client: ControlClient;
  /** Host clock minus conductor clock, ms (estimated from the fastest of a few round trips). */
  offsetMs = 0;
  /** The fastest control round trip, ms. */
  rttMs = 0;
  info: AttachResult | undefined;
  /** The newest heartbeat and when it arrived (conductor clock). */
  heartbeat: Heartbeat | undefined;
  lastSeen = 0;
  /** Why the camera counts as lost, once it does. */
  lost: string | undefined;

  private constructor(name: string, config: ResolvedCamera, client: ControlClient) {
    this.name = name;
    this.config = config;
    this.client = client;
  }

  /** Connects (no request is sent yet). */
  static async open(config: ResolvedCamera, timeoutMs: number, curve?: CurveClientOptions): Promise<CameraLink> {
    const client = await ControlClient.create({ connect: config.endpoint, timeoutMs, curve });
    return new CameraLink(config.name, config, client);
  }

  /**
   * Checks the server answers as a camera server, measures the clock and attaches.
   * @throws Error naming the endpoint and what went wrong.
   */
  async attach(events: string): Promise<AttachResult> {
    const status = await this.client.request<{ kind?: string; state?: string }>('status');
    if (status?.kind !== 'camera')
      throw new Error(`${this.config.endpoint} is a ${String(status?.kind ?? 'unknown')} server, not a camera server`);
    await this.measureClock();
    this.info = await this.client.request<AttachResult>('conductor.attach', { name: this.name, events });
    this.lastSeen = performance.now();
    return this.info;
  }

  /** Estimates the host clock offset from `rounds` round trips (the fastest one wins). */
  async measureClock(rounds = 5): Promise<void> {
    let best = Infinity;
    for (let i = 0; i < rounds; i++) {
      const t0 = preciseNow();
      const { now } = await this.client.request<{ now: number }>('clock');
      const t1 = preciseNow();
      if (t1 - t0 < best) {
        best = t1 - t0;
        this.offsetMs = now - (t0 + t1) / 2;
      }
    }
    this.rttMs = best;
  }

  /**
   * Applies every configured setting the camera has.
   * @returns the refusals, as `cameras.NAME.KEY: refused by the camera: …`; empty when all were taken.
   */
  async applySettings(): Promise<string[]> {
    const c = this.config;
    const has = new Set(this.info?.parameters ?? []);
    const refusals: string[] = [];
    const set = async (key: string, parameter: string, value: WireValue) => {
      if (!has.has(parameter)) {
        refusals.push(
          `cameras.${this.name}.${key}: the camera (${this.info?.kind ?? 'camera'}) has no parameter '${parameter}'`,
        );
        return false;
      }
      try {
        await this.client.request('param.set', { name: parameter, value });
        return true;
      } catch (error) {
        refusals.push(`cameras.${this.name}.${key}: refused by the camera: ${errorMessage(error)}`);
        return false;
      }
    };
    const px = (v: number): WireValue => ({ value: v, unit: 'px' });
    await set('triggerSource', 'triggerSource', c.triggerSource);
    const roi = c.roi ?? (c.size ? [0, 0, c.size[0], c.size[1]] : undefined);
    if (roi) {
      const key = c.roi ? 'roi' : 'size';
      // origin first, so a larger width or height fits the sensor; then the size; then the origin
      if ((await set(key, 'roiX0', px(0))) && (await set(key, 'roiY0', px(0))))
        for (const [name, v] of [
          ['roiWidth', roi[2]],
          ['roiHeight', roi[3]],
          ['roiX0', roi[0]],
          ['roiY0', roi[1]],
        ] as const)
          if (!(await set(key, name, px(v)))) break;
    }
    // mirror (left-right) and flip (upside down) as the base's mirror + quarter turns:
    // rot(k) ∘ vflip ∘ hflip^m = rot(k + 2) ∘ hflip^(m xor 1)
    const quarter = c.rotate / 90 + (c.flip ? 2 : 0);
    await set(c.flip ? 'flip' : 'mirror', 'mirror', c.mirror !== c.flip);
    await set(c.flip ? 'flip' : 'rotate', 'rotate', quarter % 4);
    await set('frameRate', 'frameRate', { value: c.frameRate, unit: 'Hz' });
    if (c.exposureTime !== undefined) {
      const exposure: Unit = q(c.exposureTime);
      await set('exposureTime', 'exposureTime', { value: exposure.toNumber('s'), unit: 's' });
    }
    for (const key of BACKEND_SETTINGS) {
      const value = c[key];
      if (value !== undefined) await set(key, key, value);
    }
    return refusals;
  }

  /** Prepares the recording on the host (folder, files); nothing is recorded yet. */
  arm(params: StartParams, timeoutMs: number): Promise<ArmResult> {
    return this.client.request<ArmResult>('acquisition.arm', params, { timeoutMs });
  }

  /** Starts the armed recording at `startAt` (host clock); resolves once its first frame came. */
  start(startAt: number, timeoutMs: number): Promise<StartResult> {
    return this.client.request<StartResult>('acquisition.start', { startAt }, { timeoutMs });
  }

  /** Stops recording and waits for the files to be closed. */
  stop(timeoutMs: number): Promise<RecordingSummary> {
    return this.client.request<RecordingSummary>('acquisition.stop', undefined, { timeoutMs });
  }

  /** Detaches (the server stops streaming logs) and closes the connection. Never throws. */
  async close(): Promise<void> {
    if (!this.lost)
      await this.client.request('conductor.detach', undefined, { timeoutMs: 1000 }).catch(() => undefined);
    this.client.close();
  }
}
