/**
 * Acquisitions whose frames go from a remote camera straight to remote addons.
 * @module
 */
import type { RemoteCamera } from '../devices/cameras/remote.js';
import { Acquisition, type AcquisitionOptions } from './acquisition.js';

/**
 * An acquisition that records on a remote camera and makes it send `count` frames (plus the end
 * marker) to every registered endpoint. Attach remote addons to it.
 * @example
 * ```ts
 * const radios = await remoteAcquisition('radios', camera, 100);
 * ```
 */
export function remoteAcquisition(
  name: string,
  camera: RemoteCamera,
  count: number | (() => number),
  options: Omit<AcquisitionOptions, 'acquire' | 'frames'> = {},
): Promise<Acquisition> {
  const n = () => (typeof count === 'function' ? count() : count);
  return Acquisition.create(name, null, {
    ...options,
    frames: n,
    acquire: (signal, { streamId }) => camera.recording(() => camera.grabSend(n(), { signal, stream: streamId })),
  });
}
