/**
 * Remote image writer: `await ImageWriter.create(exp, { server, data })` from
 * `concert/addons/remote`. The writer server writes each acquisition through its own walker
 * (drive it with `RemoteDirectoryWalker`).
 * @module
 */
import { RemoteAddon } from './addon.js';

/** Lossless: the camera waits when the writer is behind; every frame is counted at the end. */
export class ImageWriter extends RemoteAddon {
  protected readonly lossless = true;
}
