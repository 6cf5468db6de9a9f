/**
 * The web viewer's HTTP and WebSocket server. It runs on a worker thread (see `worker.ts`), so
 * binning, contrast mapping and socket writes never take the producer's thread. Each page has at
 * most one image in flight per panel and acks it when drawn; a newer image replaces the pending
 * one. When a page is waiting and the server has nothing newer, it asks the session thread for
 * the next frame (`onWant`). Pages tell the server their contrast (`contrast`) and ask for the
 * value under the cursor (`probe`), which the server reads from the frame the page shows.
 * @module
 * @internal
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import type { DType, Frame, PixelArray } from '../../../core/index.js';
import { threadCpuMs } from '../../../core/thread-cpu.js';
import {
  contrastKey,
  DEFAULT_CONTRAST,
  displayImage,
  parseContrast,
  valueAt,
  type Contrast,
  type DisplayImage,
} from './display.js';
import { headBytes, type ImageHeader } from './encode.js';
import { pageHtml } from './page.js';
import { BufferPool } from './buffer-pool.js';

export type Panel = 'camera' | 'slice';
export const PANELS: readonly Panel[] = ['camera', 'slice'];

/** An image handed to the server (pixels in shared memory). */
export interface ServerImage {
  panel: Panel;
  /** Acquisition (camera) or slice name. */
  name: string;
  dtype: DType;
  shape: [number, number];
  frameNumber: number;
  timestamp: number;
  upstreamDropped: number;
  /** Increases by one with every frame shown on this panel and name (gaps are drops). */
  seq: number;
  data: PixelArray;
}

/** Counters the server reports to the session thread. */
export interface ServerCounts {
  sent: number;
  drawn: number;
  /** Images replaced before any page got them. */
  dropped: number;
  clients: number;
  /**
   * Worker-thread CPU time spent binning and sending, in total (ms), summed over short intervals
   * (each image's send): the thread's clock (`/proc/thread-self/schedstat`) advances at
   * scheduler ticks, so it undercounts short work that follows a wake-up; see `threadMs`.
   */
  sendMs: number;
  /** The server thread's whole CPU time when the counts were taken (ms; shared by every viewer of the process). */
  threadMs: number;
}

/** Options of the server. */
export interface ServerOptions {
  port: number;
  host: string;
  maxSize: number;
  maxFps: number;
  title?: string;
}

/** What the server tells its owner. */
export interface ServerEvents {
  /** A page waits for a newer image of `panel` than the server has. */
  onWant(panel: Panel): void;
  /** `image` is no longer needed (its shared buffer may be reused). */
  onRelease(image: ServerImage): void;
  /**
   * Counters changed (`counts` is the server's own object, updated in place: copy what you keep;
   * `threadMs` is left to the caller); `latency` is [frame → drawn, sent → received, received →
   * drawn] of a camera image.
   */
  onCounts(counts: ServerCounts, latency?: [number, number, number]): void;
}

interface Slot {
  image: ServerImage;
  /** Display images made of it, by contrast (pages usually share one). */
  encoded: Map<string, DisplayImage>;
  updatedAt: number;
  taken: boolean;
  /** Sends not yet written to the socket. */
  writing: number;
  /** Pages showing it (they may ask for the value under the cursor). */
  shown: number;
  replaced: boolean;
  released: boolean;
}

interface Client {
  ws: WebSocket;
  inflight: Record<Panel, { timestamp: number; sentAt: number } | undefined>;
  /** Last seq sent per panel and name. */
  got: Record<Panel, Map<string, number>>;
  skipped: Record<Panel, number>;
  nextAt: Record<Panel, number>;
  timers: Record<Panel, NodeJS.Timeout | undefined>;
  contrast: Record<Panel, Contrast>;
  /** What the page shows per panel and name, and how it was binned. */
  shown: Map<string, { slot: Slot; bin: number }>;
}

/** Display images kept per frame (one per contrast in use). */
const MAX_ENCODED = 4;
/**
 * Bytes kept free before each display body: the header is written there and the image goes out
 * as one WebSocket frame (one write, one TCP push), not a header fragment and a pixel fragment.
 */
const HEAD_ROOM = 1024;
/** Display buffers kept for reuse per byte length, and lengths kept. */
const MAX_FREE_BODIES = 4;
const MAX_FREE_LENGTHS = 4;

const now = () => performance.timeOrigin + performance.now();
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);
const MAX_SLICES = 64;

/** The server; `await ViewerServer.listen(options, events)`. */
export class ViewerServer {
  readonly address: AddressInfo;
  readonly #server: Server;
  readonly #wss: WebSocketServer;
  readonly #options: ServerOptions;
  readonly #events: ServerEvents;
  readonly #html: string;
  readonly #session = randomBytes(6).toString('hex');
  readonly #clients = new Set<Client>();
  /** Camera: one slot (key ''); slices: one per name. */
  readonly #slots: Record<Panel, Map<string, Slot>> = { camera: new Map(), slice: new Map() };
  readonly #wanted: Record<Panel, boolean> = { camera: false, slice: false };
  /** Display buffers of released frames, by byte length, for the next display images. */
  readonly #freeBodies = new BufferPool<Uint8Array>(MAX_FREE_BODIES, MAX_FREE_LENGTHS);
  /** Display bodies have {@link HEAD_ROOM} bytes before them, for the header of a one-frame message. */
  readonly #alloc = (length: number): Uint8Array =>
    this.#freeBodies.take(length) ?? new Uint8Array(new ArrayBuffer(HEAD_ROOM + length), HEAD_ROOM, length);
  /** Buffers whose head room holds the header of a message being written (not to be rewritten yet). */
  readonly #headsInFlight = new WeakSet<ArrayBufferLike>();
  readonly #counts: ServerCounts = { sent: 0, drawn: 0, dropped: 0, clients: 0, sendMs: 0, threadMs: 0 };
  #status: object = {};
  #stream: object | undefined;
  #closed = false;

  static async listen(options: ServerOptions, events: ServerEvents): Promise<ViewerServer> {
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ port: options.port, host: options.host }, () => {
        server.off('error', reject);
        resolve();
      });
    });
    return new ViewerServer(server, options, events);
  }

  private constructor(server: Server, options: ServerOptions, events: ServerEvents) {
    this.#server = server;
    this.#options = options;
    this.#events = events;
    this.#html = pageHtml(options.title);
    this.address = server.address() as AddressInfo;
    this.#wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: 64 * 1024 });
    server.on('request', (req, res) => this.#request(req, res));
    server.on('upgrade', (req, socket, head) => this.#upgrade(req, socket as Socket, head));
    this.#wss.on('connection', (ws, req: IncomingMessage) => this.#connect(ws, req));
  }

  /** Takes the newest image of a panel (and name); pages get it when they are ready. */
  put(image: ServerImage): void {
    if (this.#closed) return void this.#events.onRelease(image);
    const slots = this.#slots[image.panel];
    const key = image.panel === 'camera' ? '' : image.name;
    const previous = slots.get(key);
    if (previous) {
      if (!previous.taken) this.#counts.dropped++;
      previous.replaced = true;
      this.#release(previous);
    } else if (image.panel === 'slice' && slots.size >= MAX_SLICES) {
      const oldest = [...slots.entries()].reduce((a, b) => (a[1].updatedAt <= b[1].updatedAt ? a : b));
      slots.delete(oldest[0]);
      oldest[1].replaced = true;
      this.#release(oldest[1]);
    }
    slots.set(key, {
      image,
      encoded: new Map(),
      updatedAt: performance.now(),
      taken: false,
      writing: 0,
      shown: 0,
      replaced: false,
      released: false,
    });
    this.#wanted[image.panel] = false;
    for (const c of this.#clients) this.#pump(c, image.panel);
  }

  /** Sends a JSON message to every page and to pages that connect later (`status`, `stream`). */
  remember(message: { type: 'status' | 'stream' }): void {
    if (message.type === 'status') this.#status = message;
    else this.#stream = message;
    const text = JSON.stringify(message);
    for (const c of this.#clients) if (c.ws.readyState === WebSocket.OPEN) c.ws.send(text);
  }

  /** Disconnects every page and stops listening. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const c of this.#clients) {
      for (const p of PANELS) clearTimeout(c.timers[p]);
      c.ws.terminate();
    }
    this.#clients.clear();
    await new Promise<void>((resolve) => this.#wss.close(() => resolve()));
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    this.#server.closeAllConnections();
    await closed;
  }

  #release(slot: Slot): void {
    if (slot.replaced && !slot.released && slot.writing === 0 && slot.shown === 0) {
      slot.released = true;
      // No page shows its display images and none is being written: their buffers go back.
      for (const { body } of slot.encoded.values()) this.#freeBodies.give(body);
      slot.encoded.clear();
      this.#events.onRelease(slot.image);
    }
  }

  /** Records what a page shows now for a panel and name (the previous image may go). */
  #show(c: Client, panel: Panel, key: string, slot: Slot | undefined, bin = 1): void {
    const k = `${panel}\0${key}`;
    const previous = c.shown.get(k);
    if (slot) {
      slot.shown++;
      c.shown.set(k, { slot, bin });
    } else c.shown.delete(k);
    if (previous) {
      previous.slot.shown--;
      this.#release(previous.slot);
    }
  }

  #report(latency?: [number, number, number]): void {
    this.#counts.clients = this.#clients.size;
    this.#events.onCounts(this.#counts, latency);
  }

  /** The image to send a client next: the camera frame, or the slice it has waited longest for. */
  #next(c: Client, panel: Panel): [string, Slot] | undefined {
    const got = c.got[panel];
    let best: [string, Slot] | undefined;
    for (const [key, s] of this.#slots[panel])
      if (s.image.seq > (got.get(key) ?? 0) && (!best || s.updatedAt < best[1].updatedAt)) best = [key, s];
    return best;
  }

  /** Sends the client the next image of a panel if it has none in flight. */
  #pump(c: Client, panel: Panel): void {
    if (this.#closed || c.inflight[panel] || c.timers[panel] || c.ws.readyState !== WebSocket.OPEN) return;
    const next = this.#next(c, panel);
    if (!next) {
      if (!this.#wanted[panel]) {
        this.#wanted[panel] = true;
        this.#events.onWant(panel);
      }
      return;
    }
    const wait = c.nextAt[panel] - performance.now();
    if (wait > 0) {
      c.timers[panel] = setTimeout(() => {
        c.timers[panel] = undefined;
        this.#pump(c, panel);
      }, wait);
      return;
    }
    const cpu0 = threadCpuMs();
    const [key, slot] = next;
    const image = slot.image;
    const last = c.got[panel].get(key);
    if (last !== undefined && image.seq > last) c.skipped[panel] += image.seq - last - 1;
    c.got[panel].set(key, image.seq);
    slot.taken = true;
    const contrast = c.contrast[panel];
    const ck = contrastKey(contrast);
    let encoded = slot.encoded.get(ck);
    if (!encoded) {
      encoded = displayImage(frameOf(image), this.#options.maxSize, contrast, this.#alloc);
      if (slot.encoded.size >= MAX_ENCODED) slot.encoded.clear(); // some may be in flight: left to the GC
      slot.encoded.set(ck, encoded);
    }
    this.#show(c, panel, key, slot, encoded.bin);
    const sentAt = now();
    const header: ImageHeader = {
      type: 'image',
      panel,
      name: image.name,
      dtype: image.dtype,
      shape: encoded.shape,
      originalShape: image.shape,
      bin: encoded.bin,
      lo: encoded.lo,
      hi: encoded.hi,
      frameNumber: image.frameNumber,
      timestamp: image.timestamp,
      sentAt,
      dropped: c.skipped[panel] + image.upstreamDropped,
      seq: image.seq,
    };
    c.inflight[panel] = { timestamp: image.timestamp, sentAt };
    c.nextAt[panel] = performance.now() + 1000 / this.#options.maxFps;
    slot.writing++;
    const written = () => {
      slot.writing--;
      this.#release(slot);
    };
    const head = headBytes(header);
    const body = encoded.body;
    const room = body.buffer;
    if (body.byteOffset >= head.length && !this.#headsInFlight.has(room)) {
      // One frame: the header in the head room right before the pixels, which are not copied.
      const message = new Uint8Array(room, body.byteOffset - head.length, head.length + body.length);
      message.set(head);
      this.#headsInFlight.add(room);
      c.ws.send(message, { binary: true }, () => {
        this.#headsInFlight.delete(room);
        written();
      });
    } else {
      // (its head room is in use by a send to another page) two fragments of one binary message
      c.ws.send(head, { binary: true, fin: false });
      c.ws.send(body, { binary: true, fin: true }, written);
    }
    this.#counts.sent++;
    this.#counts.sendMs += threadCpuMs() - cpu0;
    this.#report();
  }

  #connect(ws: WebSocket, req: IncomingMessage): void {
    if (this.#closed) return void ws.terminate();
    const c: Client = {
      ws,
      inflight: { camera: undefined, slice: undefined },
      got: { camera: new Map(), slice: new Map() },
      skipped: { camera: 0, slice: 0 },
      nextAt: { camera: 0, slice: 0 },
      timers: { camera: undefined, slice: undefined },
      contrast: { camera: DEFAULT_CONTRAST, slice: DEFAULT_CONTRAST, ...initialContrast(req) },
      shown: new Map(),
    };
    this.#clients.add(c);
    ws.on('message', (data, binary) => this.#message(c, data, binary));
    ws.on('close', () => {
      this.#clients.delete(c);
      for (const p of PANELS) clearTimeout(c.timers[p]);
      for (const k of [...c.shown.keys()]) {
        const [panel, key] = k.split('\0') as [Panel, string];
        this.#show(c, panel, key, undefined);
      }
      this.#report();
    });
    ws.on('error', () => undefined);
    ws.send(JSON.stringify({ type: 'hello', session: this.#session, maxSize: this.#options.maxSize }));
    ws.send(JSON.stringify({ type: 'status', ...this.#status }));
    if (this.#stream) ws.send(JSON.stringify(this.#stream));
    this.#report();
    for (const p of PANELS) this.#pump(c, p);
  }

  #message(c: Client, data: RawData, binary: boolean): void {
    if (binary) return;
    let m: Record<string, unknown>;
    try {
      m = JSON.parse(data.toString());
    } catch {
      return;
    }
    if (typeof m !== 'object' || m === null || (m.panel !== 'camera' && m.panel !== 'slice')) return;
    const panel = m.panel;
    if (m.type === 'contrast') return this.#contrast(c, panel, m);
    if (m.type === 'probe') return this.#probe(c, panel, m);
    if (m.type !== 'ack') return;
    const inflight = c.inflight[panel];
    if (!inflight) return;
    c.inflight[panel] = undefined;
    this.#counts.drawn++;
    const latency: [number, number, number] | undefined =
      panel === 'camera' && typeof m.drawnAt === 'number' && typeof m.receivedAt === 'number'
        ? [m.drawnAt - inflight.timestamp, m.receivedAt - inflight.sentAt, m.drawnAt - m.receivedAt]
        : undefined;
    this.#report(latency);
    this.#pump(c, panel);
  }

  /** A page changed its contrast: what it shows is sent again, mapped anew. */
  #contrast(c: Client, panel: Panel, m: Record<string, unknown>): void {
    const contrast = parseContrast(m);
    if (!contrast || contrastKey(contrast) === contrastKey(c.contrast[panel])) return;
    c.contrast[panel] = contrast;
    c.got[panel].clear();
    this.#pump(c, panel);
  }

  /** The value under a page's cursor, from the frame it shows (display pixel coordinates). */
  #probe(c: Client, panel: Panel, m: Record<string, unknown>): void {
    const key = panel === 'camera' ? '' : String(m.name ?? '');
    const shown = c.shown.get(`${panel}\0${key}`);
    const x = Number(m.x);
    const y = Number(m.y);
    const value =
      shown && Number.isInteger(x) && Number.isInteger(y)
        ? valueAt(frameOf(shown.slot.image), shown.bin, x, y)
        : undefined;
    if (c.ws.readyState !== WebSocket.OPEN) return;
    c.ws.send(
      JSON.stringify({
        type: 'value',
        panel,
        name: key,
        x,
        y,
        bin: shown?.bin ?? 1,
        value: value ?? null,
        frameNumber: shown?.slot.image.frameNumber ?? null,
        id: m.id ?? null,
      }),
    );
  }

  /** Only requests addressed to this machine by a loopback name (guards against DNS rebinding). */
  #hostAllowed(req: IncomingMessage): boolean {
    const host = (req.headers.host ?? '').replace(/:\d+$/, '');
    return LOOPBACK.has(host) || host === this.#options.host || !LOOPBACK.has(this.#options.host);
  }

  #request(req: IncomingMessage, res: ServerResponse): void {
    if (!this.#hostAllowed(req)) return void res.writeHead(403).end('forbidden host\n');
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') return void res.writeHead(405, { allow: 'GET' }).end();
    if (path === '/' || path === '/index.html') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(this.#html);
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
    }
  }

  #upgrade(req: IncomingMessage, socket: Socket, head: Buffer): void {
    const origin = req.headers.origin;
    let sameOrigin = true;
    if (origin) {
      try {
        sameOrigin = new URL(origin).host === req.headers.host;
      } catch {
        sameOrigin = false;
      }
    }
    if (this.#closed || (req.url ?? '').split('?')[0] !== '/ws' || !this.#hostAllowed(req) || !sameOrigin) {
      socket.end('HTTP/1.1 403 Forbidden\r\nconnection: close\r\n\r\n');
      return;
    }
    this.#wss.handleUpgrade(req, socket, head, (ws) => this.#wss.emit('connection', ws, req));
  }
}

/** The image's pixels as a frame. */
function frameOf(image: ServerImage): Frame {
  return {
    data: image.data,
    shape: image.shape,
    dtype: image.dtype,
    metadata: { frameNumber: image.frameNumber, timestamp: image.timestamp },
  };
}

/** Contrast the page asked for when it connected (`/ws?contrast={"camera": {...}, "slice": {...}}`). */
function initialContrast(req: IncomingMessage): Partial<Record<Panel, Contrast>> {
  const out: Partial<Record<Panel, Contrast>> = {};
  try {
    const text = new URL(req.url ?? '/', 'http://localhost').searchParams.get('contrast');
    const asked = text ? (JSON.parse(text) as Record<string, Record<string, unknown>>) : {};
    for (const panel of PANELS) {
      const c = asked[panel] && parseContrast(asked[panel]);
      if (c) out[panel] = c;
    }
  } catch {
    // no (readable) contrast: the defaults
  }
  return out;
}
