/**
 * The state the viewer page keeps in `window.concertViewer` (see `page.ts`), typed for code that
 * inspects a page in a browser (tests and benches through Playwright).
 * @module
 * @internal
 */
import type { ImageHeader } from './encode.js';

/** One panel of the page (`camera` or `slice`). */
export interface PagePanel {
  /** Images drawn so far. */
  drawn: number;
  /** The header of the last image received. */
  lastHeader: ImageHeader | null;
  /** The contrast limits in use. */
  lo: number;
  hi: number;
  fps: HTMLElement;
  drops: HTMLElement;
  title: HTMLElement;
  /** Images by name (the slice panel keeps one per slice). */
  images: Map<string, unknown>;
}

/** `window.concertViewer`. */
export interface PageViewer {
  connected: boolean;
  connections: number;
  panels: { camera: PagePanel; slice: PagePanel };
}

declare global {
  interface Window {
    /** Set by the viewer page's script. */
    concertViewer?: PageViewer;
  }
}
