/**
 * Every device made with `create()` is registered here, so experiments can record all device
 * parameters and the REPL can stop everything.
 * @module
 */
import type { Device } from './device.js';

const devices = new Set<Device>();

/** Adds a device to the registry. @internal `create()` calls this. */
export function registerDevice(device: Device): void {
  devices.add(device);
}

/** Removes a device (e.g. after `close()`). */
export function unregisterDevice(device: Device): void {
  devices.delete(device);
}

/** The registered devices, in creation order. */
export function registeredDevices(): Device[] {
  return [...devices];
}

/** Calls `emergencyStop()` on every registered device; failures are collected, not thrown. */
export async function emergencyStopAll(): Promise<Array<{ device: Device; error: unknown }>> {
  const results = await Promise.allSettled(registeredDevices().map((d) => d.emergencyStop()));
  return results.flatMap((r, i) =>
    r.status === 'rejected' ? [{ device: registeredDevices()[i]!, error: r.reason }] : [],
  );
}
