/**
 * The web live view: `await WebViewer.create({ port })` serves a page on 127.0.0.1 that shows
 * camera frames (through `LiveView`) and reconstructed slices, latest-wins.
 * @module
 */
export {
  WebViewer,
  type FollowTarget,
  type ViewerStatus,
  type WebViewerOptions,
  type WebViewerStats,
} from './web-viewer.js';
export { COLORMAPS } from './page.js';
