/**
 * Shared plumbing of the Tango device backends (motors, shutters, cameras): connecting a
 * {@link DeviceProxy} with a readable error, checking that attributes and commands exist, and
 * racing a call against an `AbortSignal`.
 * @internal Not part of the public API.
 * @module
 */
import { DEVICE_OPTIONS, math, NotConnectedError, z } from '../core/index.js';
import { DeviceProxy, type CommandInfo } from '../tango/index.js';

/** @internal The options every Tango-backed device accepts. */
export const TANGO_DEVICE_OPTIONS = DEVICE_OPTIONS.extend({
  /** Tango address: `tango://host:port/domain/family/member#dbase=no`, or `domain/family/member` with `TANGO_HOST`. */
  device: z.string(),
  /** Per-call timeout in ms (default 3000). */
  timeoutMs: z.number().min(1).max(600000).optional(),
});

/** Options every Tango-backed device accepts. */
export type TangoDeviceOptions = z.input<typeof TANGO_DEVICE_OPTIONS>;

/** @internal Connects to `options.device`; failures become a `NotConnectedError` naming the device. */
export async function connectProxy(owner: string, options: TangoDeviceOptions): Promise<DeviceProxy> {
  try {
    return await DeviceProxy.create(
      options.device,
      options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs },
    );
  } catch (error) {
    throw new NotConnectedError(new Map([[`${owner} (Tango ${options.device})`, error]]), { cause: error });
  }
}

/** @internal Names of the commands a device has, lower-cased. */
export async function commandNames(proxy: DeviceProxy): Promise<Set<string>> {
  const list: CommandInfo[] = await proxy.commandList();
  return new Set(list.map((c) => c.name.toLowerCase()));
}

/** @internal Checks that the named attributes exist (one `get_attribute_config` call); names the missing ones. */
export async function requireAttributes(owner: string, proxy: DeviceProxy, names: readonly string[]): Promise<void> {
  const all = new Set((await proxy.attributeList()).map((n) => n.toLowerCase()));
  const missing = names.filter((n) => !all.has(n.toLowerCase()));
  if (missing.length) {
    throw new NotConnectedError(
      new Map([
        [
          `${owner} (Tango ${proxy.name})`,
          new Error(`the device has no attribute ${missing.map((m) => `'${m}'`).join(', ')}`),
        ],
      ]),
    );
  }
}

/** @internal Resolves like `promise`, or rejects with the signal's reason as soon as it aborts. */
export function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    promise.catch(() => undefined);
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => {
      promise.catch(() => undefined);
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

/**
 * @internal Device units per `unit` for a Tango attribute unit: 1 when the attribute has no unit or one
 * mathjs does not know (warned), the conversion factor for a compatible one (`um` for mm).
 */
export function unitScale(tangoUnit: string, unit: string, warn: (message: string) => void): number {
  const u = tangoUnit.trim();
  if (u === '' || u.toLowerCase() === 'no unit' || u === unit) return 1;
  let parsed;
  try {
    parsed = math.unit(1, u);
  } catch {
    warn(`the Tango attribute unit '${u}' is unknown; taking values as ${unit}`);
    return 1;
  }
  if (!parsed.equalBase(math.unit(1, unit))) {
    warn(`the Tango attribute unit '${u}' is not a ${unit} unit; taking values as ${unit}`);
    return 1;
  }
  return 1 / parsed.toNumber(unit);
}
