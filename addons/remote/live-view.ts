/**
 * Remote live view: frames go from the camera to a live server over PUB/SUB with HWM 1, so it
 * never slows the camera; drops happen (and are counted by the server).
 * @module
 */
import { RemoteAddon } from './addon.js';

/** Latest-wins: never slows the camera. */
export class LiveView extends RemoteAddon {
  protected readonly lossless = false;
}
