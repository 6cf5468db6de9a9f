import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { get as httpGet } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect as tcpConnect } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import sharp from 'sharp';
import { WebSocket } from 'ws';
import { makeFrame, type Frame } from '../../../../core/index.js';
import { Acquisition, Experiment } from '../../../../experiments/index.js';
import { LiveView, WebViewer } from '../../../../addons/local/index.js';
import { decodeImage, headBytes, type ImageHeader } from '../../../../addons/local/web-viewer/encode.js';
import {
  autoLimits,
  binFactor,
  blockSumLimits,
  binPixels,
  DEFAULT_CONTRAST,
  displayImage,
  displayKernel,
  integerDisplayImage,
  mapToBytes,
  valueAt,
  type Contrast,
} from '../../../../addons/local/web-viewer/display.js';
import { wasmDisplay } from '../../../../addons/local/web-viewer/display-wasm.js';
import type {} from '../../../../addons/local/web-viewer/page-global.js';

const CHROMIUM = '/usr/bin/chromium';
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

/** A 16-bit test pattern: value = base + ((7x + 13y) mod 256). */
function pattern(h: number, w: number, base = 1000, frameNumber = 0): Frame<'uint16'> {
  const data = new Uint16Array(h * w);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) data[y * w + x] = base + ((7 * x + 13 * y) % 256);
  return makeFrame(data, [h, w], { frameNumber });
}

/**
 * A camera at `fps` frames per second for `durationMs`: frame i is due at i / fps; a late frame is
 * yielded at once (catching up), so the count shows whether anything held the producer back.
 */
function pacedCamera(fps: number, durationMs: number, counter: { n: number }, shape: [number, number] = [256, 256]) {
  const ring = Array.from({ length: 8 }, () => new Uint16Array(shape[0] * shape[1]));
  return async function* (signal: AbortSignal): AsyncGenerator<Frame> {
    const t0 = performance.now();
    for (let i = 0; performance.now() - t0 < durationMs && !signal.aborted; i++) {
      while (performance.now() - t0 < (i * 1000) / fps) await new Promise((r) => setImmediate(r));
      const data = ring[i % ring.length]!;
      data.fill(i & 0xfff);
      counter.n++;
      yield makeFrame(data, shape, { frameNumber: i });
    }
  };
}

function pickStats(viewer: WebViewer) {
  const { frames, sent, drawn, dropped } = viewer.stats();
  return { frames, sent, drawn, dropped };
}

async function until(what: string, condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const end = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A bare WebSocket client that records what it receives and acks only when told to. */
async function rawClient(viewer: WebViewer, options: { autoAck?: boolean } = {}) {
  const ws = new WebSocket(viewer.url.replace('http', 'ws') + 'ws');
  const images: { header: ImageHeader; pixels: ArrayLike<number> }[] = [];
  const json: Record<string, unknown>[] = [];
  const ack = (h: ImageHeader) =>
    ws.send(
      JSON.stringify({ type: 'ack', panel: h.panel, seq: h.seq, drawnAt: performance.timeOrigin + performance.now() }),
    );
  ws.on('message', (data, binary) => {
    if (!binary) return void json.push(JSON.parse(data.toString()));
    const image = decodeImage(new Uint8Array(data as Buffer));
    images.push(image);
    if (options.autoAck) ack(image.header);
  });
  await new Promise<void>((resolve, reject) => ws.once('open', resolve).once('error', reject));
  return { ws, images, json, ack };
}

describe('addons/local/web-viewer', function () {
  this.timeout(20000);
  const viewers: WebViewer[] = [];
  const sockets: WebSocket[] = [];
  const make = async (options: Parameters<typeof WebViewer.create>[0] = {}) => {
    const v = await WebViewer.create(options);
    viewers.push(v);
    return v;
  };
  afterEach(async () => {
    for (const s of sockets.splice(0)) s.terminate();
    await Promise.all(viewers.splice(0).map((v) => v.close()));
  });

  describe('encoding', () => {
    it('bins to at most maxSize on the long side, averaging blocks', () => {
      assert.equal(binFactor([1024, 1024], 1024), 1);
      assert.equal(binFactor([2048, 1000], 1024), 2);
      assert.equal(binFactor([3000, 10], 1024), 3);
      const f = makeFrame(Uint16Array.from([1, 3, 5, 7, 2, 4, 6, 9, 100, 100, 0, 0]), [3, 4]);
      const { data, shape } = binPixels(f, 2);
      assert.deepEqual(shape, [1, 2]);
      assert.deepEqual([...data], [2.5 /* (1+3+2+4)/4 */, 6.75 /* (5+7+6+9)/4 */]);
      assert.equal(binPixels(f, 1).data, f.data, 'unbinned: the frame itself');
      assert.equal(valueAt(f, 2, 1, 0), 6.75);
      assert.equal(valueAt(f, 1, 3, 2), 0);
      assert.equal(valueAt(f, 2, 0, 1), undefined, 'outside the binned image');
    });

    it('maps to bytes with the page formula, by table for 8/16-bit pixels and by arithmetic otherwise', () => {
      const u16 = Uint16Array.from([0, 1000, 1100, 1255, 1256, 65535]);
      const expected = [0, 0, 100, 255, 255, 255];
      assert.deepEqual([...mapToBytes(u16, 1000, 1255)], expected);
      assert.deepEqual([...mapToBytes(Float32Array.from(u16), 1000, 1255)], expected);
      assert.deepEqual([...mapToBytes(Float32Array.from([NaN, -Infinity, Infinity]), 0, 1)], [0, 0, 255]);
      const scale = 255 / 4095;
      assert.deepEqual(
        [...mapToBytes(Uint16Array.from([7, 2000, 4095]), 0, 4095)],
        [7, 2000, 4095].map((v) => Math.min(255, Math.floor(v * scale + 0.5))),
      );
      const ramp = Float32Array.from({ length: 10000 }, (_, i) => i);
      const [lo, hi] = autoLimits(ramp, 0.5);
      assert.ok(Math.abs(lo - 50) < 5 && Math.abs(hi - 9950) < 5, `percentiles ${lo} ${hi}`);
      assert.deepEqual(autoLimits(new Float32Array(9).fill(3), 1), [3, 4], 'a flat image');
    });

    it('finds the auto-contrast limits of 8- and 16-bit frames from block sums exactly as from the binned means', () => {
      let seed = 99;
      const random = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 8) / 2 ** 24;
      // Narrow sums are counted by value, wide ones (16-bit noise binned 2 × 2) go through the histogram one by one.
      const cases: Array<[number, number, number, number]> = [
        [1024, 1024, 4095, 1],
        [1024, 1024, 4095, 2],
        [1024, 1024, 65535, 1],
        [1024, 1024, 65535, 2],
        [700, 1030, 65535, 2],
        [301, 517, 255, 3],
        [64, 48, 1, 2],
      ];
      for (const [h, w, max, bin] of cases) {
        const data = max === 255 ? new Uint8Array(h * w) : new Uint16Array(h * w);
        for (let i = 0; i < data.length; i++) data[i] = Math.floor(random() * (max + 1));
        const { data: binned, shape } = binPixels(makeFrame(data, [h, w]), bin);
        for (const clip of [0, 0.5, 5]) {
          const what = `${h}×${w} up to ${max}, bin ${bin}, clip ${clip}`;
          assert.deepEqual(blockSumLimits(data, w, shape[0], shape[1], bin, clip), autoLimits(binned, clip), what);
        }
      }
      assert.deepEqual(blockSumLimits(new Uint16Array(64).fill(7), 8, 4, 4, 2, 0.5), [7, 8], 'a flat frame');
    });

    it('makes the display image (binned, limits, bytes) and frames it in a message the page decodes', () => {
      const f = pattern(8, 16, 1000);
      const d = displayImage(f, 1024, { auto: false, clip: 0.5, min: 1000, max: 1255 });
      assert.deepEqual([d.bin, d.shape, d.lo, d.hi], [1, [8, 16], 1000, 1255]);
      assert.deepEqual(
        [...d.body],
        [...f.data].map((v) => v - 1000),
      );
      const header: ImageHeader = {
        type: 'image',
        panel: 'camera',
        name: 'radios',
        dtype: 'uint16',
        shape: d.shape,
        originalShape: [8, 16],
        bin: 1,
        lo: d.lo,
        hi: d.hi,
        frameNumber: 0,
        timestamp: 1,
        sentAt: 2,
        dropped: 0,
        seq: 1,
      };
      const head = headBytes(header);
      assert.equal(head.length % 8, 0);
      const message = new Uint8Array(head.length + d.body.length);
      message.set(head);
      message.set(d.body, head.length);
      const decoded = decodeImage(message);
      assert.deepEqual(decoded.header, header);
      assert.deepEqual([...decoded.pixels], [...d.body]);
      const binned = displayImage(pattern(300, 600), 256, { auto: true, clip: 0.5, min: 0, max: 1 });
      assert.deepEqual([binned.bin, binned.shape], [3, [100, 200]]);
      assert.ok(binned.lo >= 1000 && binned.hi <= 1255 && binned.hi > binned.lo);
    });

    it('8/16-bit frames: the fused path gives the same limits and bytes as binning, limits and mapping in turn', () => {
      // A small deterministic generator (the same cases every run).
      let seed = 12345;
      const random = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
      const contrasts: Contrast[] = [
        { auto: true, clip: 0.5, min: 0, max: 1 },
        { auto: true, clip: 5, min: 0, max: 1 },
        { auto: false, clip: 0.5, min: 10.3, max: 3000.7 },
        { auto: false, clip: 0.5, min: -5, max: -1 },
        { auto: false, clip: 0.5, min: 5, max: 5 },
        { auto: false, clip: 0.5, min: 80000, max: 70000 },
        { auto: false, clip: 0.5, min: 70000, max: 80000 },
      ];
      let checked = 0;
      let bigChecked = 0;
      // Small frames, and large 16-bit ones (their block-sum table is used only if it is not larger than the frame).
      const large: [number, number][] = [
        [1024, 1024],
        [520, 1030],
        [801, 799],
      ];
      for (let t = 0; t < 40 + large.length; t++) {
        const [h, w] = t >= 40 ? large[t - 40]! : [1 + Math.floor(random() * 150), 1 + Math.floor(random() * 150)];
        const u8 = t % 4 === 3 && t < 40;
        const max = u8 ? 255 : [255, 4095, 65535][t % 3]!;
        const data = u8 ? new Uint8Array(h * w) : new Uint16Array(h * w);
        for (let i = 0; i < data.length; i++)
          data[i] = t % 5 === 0 ? 100 : t % 5 === 1 ? (i * 37) % (max + 1) : Math.floor(random() * (max + 1));
        const frame = makeFrame(data, [h, w]);
        for (const bin of t >= 40 ? [2, 3] : [1, 2, 3, 4])
          for (const contrast of contrasts) {
            if (Math.floor(h / bin) < 1 || Math.floor(w / bin) < 1) continue;
            const fused = integerDisplayImage(frame, bin, contrast);
            if (!fused) continue;
            const { data: binned, shape } = binPixels(frame, bin);
            const [lo, hi] = contrast.auto ? autoLimits(binned, contrast.clip) : [contrast.min, contrast.max];
            const what = `${h}×${w} ${frame.dtype} bin ${bin} ${JSON.stringify(contrast)}`;
            assert.deepEqual([fused.shape, fused.lo, fused.hi], [shape, lo, hi], what);
            assert.ok(Buffer.from(fused.body).equals(Buffer.from(mapToBytes(binned, lo, hi))), what);
            checked++;
            if (t >= 40) bigChecked++;
          }
      }
      assert.ok(checked > 300, `${checked} cases`);
      assert.ok(bigChecked >= 3 * contrasts.length, `${bigChecked} large cases`);
      assert.equal(integerDisplayImage(makeFrame(new Float32Array(16), [4, 4]), 2, contrasts[0]!), undefined);
    });

    it('maps uint16 frames binned 1 × 1 and 2 × 2 in WebAssembly SIMD to the same bytes as the JavaScript', () => {
      assert.equal(displayKernel(), 'wasm-simd', 'Node 20 has WebAssembly SIMD: the kernel must check out');
      const kernel = wasmDisplay()!;
      assert.ok(kernel.agreesWithJavaScript());
      let seed = 7;
      const random = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 8) / 2 ** 24;
      const contrasts: Contrast[] = [
        { auto: true, clip: 0.5, min: 0, max: 1 },
        { auto: true, clip: 0, min: 0, max: 1 },
        { auto: false, clip: 0.5, min: 10.3, max: 3000.7 },
        { auto: false, clip: 0.5, min: 5, max: 5 },
        { auto: false, clip: 0.5, min: 80000, max: 70000 },
        { auto: false, clip: 0.5, min: -1e6, max: 1e6 },
      ];
      let simd = 0;
      // auto contrast of 2 × 2 blocks takes its samples from the kernel too (sample2)
      let sampled = 0;
      const sample2 = kernel.sample2.bind(kernel);
      kernel.sample2 = (...args) => (sampled++, sample2(...args));
      const shapes: [number, number][] = [
        [1024, 1024],
        [64, 32],
        [33, 65],
        [7, 16],
        [512, 96],
        [31, 48],
        [20, 20],
      ];
      try {
        for (const [h, w] of shapes)
          for (const max of [255, 4095, 65535]) {
            const data = new Uint16Array(h * w).map(() => Math.floor(random() * (max + 1)));
            const frame = makeFrame(data, [h, w]);
            for (const bin of [1, 2])
              for (const contrast of contrasts) {
                if (kernel.takes(w, h, bin)) simd++;
                displayKernel(false);
                const js = displayImage(frame, Math.ceil(Math.max(h, w) / bin), contrast);
                displayKernel(true);
                const wasm = displayImage(frame, Math.ceil(Math.max(h, w) / bin), contrast);
                const what = `${h}×${w} max ${max} bin ${bin} ${JSON.stringify(contrast)}`;
                assert.deepEqual([wasm.shape, wasm.bin, wasm.lo, wasm.hi], [js.shape, js.bin, js.lo, js.hi], what);
                assert.ok(Buffer.from(wasm.body).equals(Buffer.from(js.body)), what);
              }
          }
      } finally {
        displayKernel(true);
        kernel.sample2 = sample2;
      }
      assert.ok(simd >= 60, `${simd} cases took the kernel`);
      assert.ok(sampled >= 10, `${sampled} cases sampled in the kernel`);
    });
  });

  describe('server', () => {
    it('binds 127.0.0.1 only and serves the page', async () => {
      const viewer = await make();
      assert.match(viewer.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
      const res = await fetch(viewer.url);
      assert.equal(res.status, 200);
      assert.match(await res.text(), /<canvas/);
      assert.equal((await fetch(viewer.url + 'nothing')).status, 404);
      const external = Object.values(networkInterfaces())
        .flat()
        .find((i) => i && i.family === 'IPv4' && !i.internal);
      if (!external)
        return void console.log('      (no non-loopback address here: only the bound address was checked)');
      const refused = await new Promise<boolean>((resolve) => {
        const s = tcpConnect({ host: external.address, port: viewer.port });
        s.once('connect', () => (s.destroy(), resolve(false)));
        s.once('error', () => resolve(true));
      });
      assert.ok(refused, `the viewer must not accept connections on ${external.address}`);
    });

    it('reports a port in use as an AddonError', async () => {
      const first = await make();
      await assert.rejects(
        WebViewer.create({ port: first.port }),
        (e: Error) => e.name === 'AddonError' && /cannot listen on 127\.0\.0\.1:\d+/.test(e.message),
      );
      await assert.rejects(WebViewer.create({ port: -1 }), /port/);
    });

    it('rejects WebSockets from other origins and foreign Host headers', async () => {
      const viewer = await make();
      const ws = new WebSocket(viewer.url.replace('http', 'ws') + 'ws', { origin: 'http://evil.example' });
      sockets.push(ws);
      const status = await new Promise<number | undefined>((resolve) => {
        ws.once('unexpected-response', (_req, res) => resolve(res.statusCode));
        ws.once('open', () => resolve(101));
        ws.once('error', () => resolve(undefined));
      });
      assert.notEqual(status, 101);
      const status2 = await new Promise<number | undefined>((resolve, reject) =>
        httpGet(
          viewer.url,
          { headers: { host: 'evil.example' } },
          (res) => (res.resume(), resolve(res.statusCode)),
        ).once('error', reject),
      );
      assert.equal(status2, 403, 'a foreign Host header (DNS rebinding) is refused');
    });

    it('keeps one image in flight per client; newer frames replace the pending one and are counted as drops', async () => {
      const viewer = await make({ maxFps: 1000, cpuBudget: 1 });
      const client = await rawClient(viewer);
      sockets.push(client.ws);
      await until('the page to be counted', () => viewer.stats().clients === 1);
      viewer.show(pattern(8, 8, 0, 0), { acquisition: 'radios', dropped: 0 });
      await until('first image', () => client.images.length === 1);
      for (let i = 1; i < 10; i++) viewer.show(pattern(8, 8, 0, i), { acquisition: 'radios', dropped: 0 });
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(client.images.length, 1, 'nothing more before the ack');
      assert.equal(client.images[0]!.header.frameNumber, 0);
      client.ack(client.images[0]!.header);
      await until('second image', () => client.images.length === 2);
      const second = client.images[1]!.header;
      assert.equal(second.frameNumber, 9, 'the newest frame, not a backlog');
      assert.equal(second.dropped, 8);
      await until('counters from the server thread', () => viewer.stats().sent === 2);
      assert.deepEqual(pickStats(viewer), { frames: 10, sent: 2, drawn: 1, dropped: 8 });
    });

    it('sends an image as one WebSocket frame: the header written right before the pixels', async () => {
      const viewer = await make();
      const port = Number(new URL(viewer.url).port);
      const socket = tcpConnect(port, '127.0.0.1');
      let received = Buffer.alloc(0);
      socket.on('data', (d: Buffer) => (received = Buffer.concat([received, d])));
      socket.write(
        `GET /ws HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
      );
      /** The complete frames received after the handshake (the server's are not masked). */
      const frames = () => {
        const out: { fin: boolean; opcode: number; payload: Buffer }[] = [];
        let at = received.indexOf('\r\n\r\n');
        if (at < 0) return out;
        for (at += 4; at + 2 <= received.length;) {
          const short = received[at + 1]! & 0x7f;
          const [length, start] =
            short === 126
              ? [received.readUInt16BE(at + 2), at + 4]
              : short === 127
                ? [Number(received.readBigUInt64BE(at + 2)), at + 10]
                : [short, at + 2];
          if (start + length > received.length) break;
          out.push({
            fin: received[at]! >> 7 === 1,
            opcode: received[at]! & 0x0f,
            payload: received.subarray(start, start + length),
          });
          at = start + length;
        }
        return out;
      };
      const binary = () => frames().filter((f) => f.opcode === 2 || f.opcode === 0);
      try {
        await until('the page to be counted', () => viewer.stats().clients === 1);
        const frame = pattern(64, 64, 500, 3);
        viewer.show(frame, { acquisition: 'radios', dropped: 0 });
        await until('an image', () => binary().length > 0);
        await new Promise((r) => setTimeout(r, 50));
        const [only, ...more] = binary();
        assert.deepEqual(
          { fin: only!.fin, opcode: only!.opcode, more: more.length },
          { fin: true, opcode: 2, more: 0 },
          'one final binary frame, no continuation',
        );
        const { header, pixels } = decodeImage(only!.payload);
        assert.equal(header.frameNumber, 3);
        assert.ok(Buffer.from(pixels).equals(Buffer.from(displayImage(frame, 1024, DEFAULT_CONTRAST).body)));
      } finally {
        socket.destroy();
      }
    });

    it('sends the bytes of the frame it names while display buffers are reused (fast and slow pages)', async () => {
      const viewer = await make({ maxSize: 64, maxFps: 1000, cpuBudget: 1 });
      const fast = [await rawClient(viewer, { autoAck: true }), await rawClient(viewer, { autoAck: true })];
      const slow = await rawClient(viewer);
      sockets.push(...fast.map((c) => c.ws), slow.ws);
      await until('the pages to be counted', () => viewer.stats().clients === 3);
      const slowAcks = setInterval(() => {
        const last = slow.images[slow.images.length - 1];
        if (last) slow.ack(last.header);
      }, 25);
      // 128² frames whose contrast and pixels differ per frame number, binned 2 × 2 to 64².
      const frame = (n: number) => pattern(128, 128, 100 * n, n);
      const expected = new Map<number, Buffer>();
      try {
        for (let n = 0; n < 60; n++) {
          const f = frame(n);
          expected.set(n, Buffer.from(displayImage(f, 64, DEFAULT_CONTRAST).body));
          viewer.show(f, { acquisition: 'radios', dropped: 0 });
          await new Promise((r) => setTimeout(r, 3));
        }
        await until('the last frame on the fast pages', () =>
          fast.every((c) => c.images[c.images.length - 1]?.header.frameNumber === 59),
        );
      } finally {
        clearInterval(slowAcks);
      }
      let checked = 0;
      for (const client of [...fast, slow])
        for (const { header, pixels } of client.images) {
          assert.ok(
            Buffer.from(pixels as Uint8Array).equals(expected.get(header.frameNumber)!),
            `frame ${header.frameNumber}`,
          );
          checked++;
        }
      assert.ok(
        checked > 20 && slow.images.length > 1,
        `${checked} images checked, ${slow.images.length} on the slow page`,
      );
    });

    it('bins large frames server-side and keeps the original shape in the header', async () => {
      const viewer = await make({ maxSize: 256 });
      const client = await rawClient(viewer, { autoAck: true });
      sockets.push(client.ws);
      viewer.show(pattern(300, 600), { acquisition: 'radios', dropped: 2 });
      await until('image', () => client.images.length === 1);
      const { header, pixels } = client.images[0]!;
      assert.deepEqual(
        [header.bin, header.shape, header.originalShape, header.dropped],
        [3, [100, 200], [300, 600], 2],
      );
      assert.equal(pixels.length, 100 * 200);
      // The server thread's own CPU clock comes with the counters: the work of binning shows in it.
      const before = viewer.stats().serverThreadMs;
      assert.ok(before > 0, `server thread CPU ${before} ms`);
      const big = makeFrame(
        new Uint16Array(2048 * 2048).map((_, i) => i & 0xfff),
        [2048, 2048],
        { frameNumber: 1 },
      );
      for (let i = 0; i < 5; i++) {
        viewer.show(big, { acquisition: 'radios', dropped: 0 });
        await until(`image ${i + 2}`, () => client.images.length === i + 2);
      }
      await until('the counts of the last image', () => viewer.stats().sent === 6);
      assert.ok(viewer.stats().serverThreadMs > before, 'the thread clock advanced with five 2048² images binned');
    });

    it('follows an experiment: state and progress', async () => {
      const viewer = await make();
      const client = await rawClient(viewer, { autoAck: true });
      sockets.push(client.ws);
      const radios = await Acquisition.create(
        'radios',
        async function* () {
          for (let i = 0; i < 5; i++) yield makeFrame(new Uint16Array(16), [4, 4], { frameNumber: i });
        },
        { frames: 5 },
      );
      const exp = await Experiment.create([radios]);
      await LiveView.create(exp, { viewer });
      const stop = viewer.follow(exp, { intervalMs: 20 });
      await exp.run();
      await until('standby with progress 5/5', () =>
        client.json.some(
          (m) => m.type === 'status' && m.state === 'standby' && JSON.stringify(m.progress) === '{"done":5,"total":5}',
        ),
      );
      assert.ok(client.json.some((m) => m.type === 'status' && m.state === 'running'));
      assert.ok(client.json.some((m) => m.type === 'stream' && m.acquisition === 'radios' && m.running === false));
      stop();
    });
  });

  describe('in headless Chromium', function () {
    let context: BrowserContext | undefined;
    let profile: string | undefined;
    let page: Page;

    before(async function () {
      if (!existsSync(CHROMIUM)) {
        console.log(`      skipped: ${CHROMIUM} is missing (Debian package chromium)`);
        return this.skip();
      }
      profile = await mkdtemp(join(tmpdir(), 'concert-chromium-'));
      context = await chromium.launchPersistentContext(profile, {
        executablePath: CHROMIUM,
        args: FLAGS,
        viewport: { width: 1200, height: 900 },
      });
    });
    after(async () => {
      await context?.close();
      if (profile) await rm(profile, { recursive: true, force: true });
    });
    beforeEach(async () => {
      page = await context!.newPage();
    });
    afterEach(async () => {
      await page?.close();
    });

    const camera = (p: Page) =>
      p.evaluate(() => {
        const v = window.concertViewer!;
        const c = v.panels.camera;
        return {
          connected: v.connected as boolean,
          connections: v.connections as number,
          drawn: c.drawn as number,
          header: c.lastHeader as ImageHeader | null,
          lo: c.lo as number,
          hi: c.hi as number,
          fps: c.fps.textContent as string,
          drops: c.drops.textContent as string,
          title: c.title.textContent as string,
        };
      });
    const waitFrame = (p: Page, frameNumber: number, name?: string) =>
      p.waitForFunction(
        ([n, a]) => {
          const h = window.concertViewer?.panels.camera.lastHeader;
          return h && h.frameNumber >= n && (a === null || h.name === a);
        },
        [frameNumber, name ?? null] as const,
        { timeout: 5000 },
      );

    it('loads the page and draws a frame whose pixels match what was sent (canvas and screenshot)', async () => {
      const viewer = await make();
      await page.goto(`${viewer.url}?cmap=gray&min=1000&max=1255&zoom=1`);
      await page.waitForFunction(() => window.concertViewer?.connected, null, { timeout: 5000 });
      const [h, w] = [48, 64];
      const frame = pattern(h, w, 1000, 3);
      viewer.show(frame, { acquisition: 'radios', dropped: 0 });
      await waitFrame(page, 3);
      const rgba = await page.evaluate(() => {
        const c = document.querySelector('#camera canvas') as HTMLCanvasElement;
        return [c.width, c.height, ...c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data];
      });
      assert.deepEqual(rgba.slice(0, 2), [w, h]);
      let mismatches = 0;
      for (let i = 0; i < h * w; i++) {
        const expected = frame.data[i]! - 1000;
        const [r, g, b, a] = rgba.slice(2 + 4 * i, 6 + 4 * i);
        if (r !== expected || g !== expected || b !== expected || a !== 255) mismatches++;
      }
      assert.equal(mismatches, 0, 'canvas pixels = sent values mapped through gray, min 1000, max 1255');
      // The same through a screenshot of the canvas element (drawn 1:1).
      const png = await page.locator('#camera canvas').screenshot();
      const shot = await sharp(png).removeAlpha().raw().toBuffer({ resolveWithObject: true });
      assert.deepEqual([shot.info.width, shot.info.height], [w, h]);
      let worst = 0;
      for (let i = 0; i < h * w; i++)
        worst = Math.max(worst, Math.abs(shot.data[i * shot.info.channels]! - (frame.data[i]! - 1000)));
      assert.ok(worst <= 1, `screenshot differs by up to ${worst} levels`);
      // Manual contrast changed on the page: the server maps the frame again.
      await page.fill('#camera .min', '0');
      await page.fill('#camera .max', '4095');
      await page.waitForFunction(
        () => {
          const c = window.concertViewer!.panels.camera;
          return c.lo === 0 && c.hi === 4095;
        },
        null,
        { timeout: 5000 },
      );
      const red = await page.evaluate(() =>
        [
          ...(document.querySelector('#camera canvas') as HTMLCanvasElement)
            .getContext('2d')!
            .getImageData(0, 0, 64, 48).data,
        ].filter((_, i) => i % 4 === 0),
      );
      const scale = 255 / 4095;
      assert.deepEqual(
        red,
        [...frame.data].map((v) => Math.min(255, Math.floor(v * scale + 0.5))),
      );
      // The value under the cursor, in original pixel coordinates (the server reads it from the frame).
      await page.locator('#camera canvas').hover({ position: { x: 10.5, y: 5.5 } });
      await page.waitForFunction(
        (text) => document.querySelector('#camera .cursor')!.textContent === text,
        `x 10, y 5: ${frame.data[5 * w + 10]}`,
        { timeout: 5000 },
      );
    });

    it('auto contrast from percentiles, colormaps and binned cursor coordinates', async () => {
      const viewer = await make({ maxSize: 100 });
      await page.goto(`${viewer.url}?cmap=viridis`);
      const data = new Float32Array(200 * 200).map((_, i) => (i % 200) * 50 + Math.floor(i / 200) / 4); // 0 … 9999.75
      viewer.show(makeFrame(data, [200, 200], { frameNumber: 1 }), { acquisition: 'radios', dropped: 0 });
      await waitFrame(page, 1);
      const state = await camera(page);
      assert.equal(state.header!.bin, 2);
      const range = 199 * 50 + 49.75;
      assert.ok(Math.abs(state.lo - 0.005 * range) < range / 1000, `lo ${state.lo}`);
      assert.ok(Math.abs(state.hi - 0.995 * range) < range / 1000, `hi ${state.hi}`);
      const first = await page.evaluate(() => [
        ...(document.querySelector('#camera canvas') as HTMLCanvasElement).getContext('2d')!.getImageData(0, 0, 1, 1)
          .data,
      ]);
      assert.deepEqual(first, [0x44, 0x01, 0x54, 255], 'viridis starts at #440154');
      const box = (await page.locator('#camera canvas').boundingBox())!;
      assert.ok(box.width > 300, 'fit zoom scales the 100 px image up');
      await page
        .locator('#camera canvas')
        .hover({ position: { x: (3.5 * box.width) / 100, y: (1.5 * box.height) / 100 } });
      await page.waitForFunction(() => document.querySelector('#camera .cursor')!.textContent !== '', null, {
        timeout: 5000,
      });
      const mean = (data[2 * 200 + 6]! + data[2 * 200 + 7]! + data[3 * 200 + 6]! + data[3 * 200 + 7]!) / 4;
      assert.equal(
        await page.textContent('#camera .cursor'),
        `x 6–7, y 2–3: ${Number(mean.toPrecision(5))} (2×2 mean)`, // the page shows 5 digits
      );
    });

    it('updates as frames arrive and shows slices in the second panel', async () => {
      const viewer = await make();
      await page.goto(viewer.url);
      const seen: number[] = [];
      for (let i = 0; i < 5; i++) {
        viewer.show(pattern(32, 32, 0, i), { acquisition: 'radios', dropped: 0 });
        await waitFrame(page, i);
        seen.push((await camera(page)).header!.frameNumber);
      }
      assert.deepEqual(seen, [0, 1, 2, 3, 4]);
      viewer.showSlice(makeFrame(new Float32Array(64).fill(0.5), [8, 8]), { name: 'slice 0' });
      viewer.showSlice(makeFrame(new Float32Array(64).fill(1.5), [8, 8]), { name: 'slice 1' });
      await page.waitForFunction(() => window.concertViewer!.panels.slice.images.size === 2, null, {
        timeout: 5000,
      });
      assert.deepEqual(await page.$$eval('#slice .names option', (os) => os.map((o) => o.textContent)), [
        'latest',
        'slice 0',
        'slice 1',
      ]);
      viewer.setStatus({ state: 'running', progress: { done: 3, total: 12 } });
      await page.waitForFunction(() => document.getElementById('state')!.textContent === 'running', null, {
        timeout: 5000,
      });
      assert.equal(await page.textContent('#progressText'), '3 / 12 (25 %)');
    });

    it('survives the stream restarting: a new acquisition, and the viewer closed and recreated on the same port', async () => {
      const first = await make();
      await page.goto(first.url);
      const radios = await Acquisition.create('radios', async function* () {
        for (let i = 0; i < 3; i++) yield pattern(16, 16, 0, i);
      });
      const exp = await Experiment.create([radios]);
      await LiveView.create(exp, { viewer: first });
      await exp.run();
      await waitFrame(page, 2, 'radios');
      exp.add(
        await Acquisition.create('flats', async function* () {
          yield pattern(16, 16, 0, 0);
        }),
      );
      await exp.run();
      await waitFrame(page, 0, 'flats');
      await first.close();
      viewers.splice(viewers.indexOf(first), 1);
      await page.waitForFunction(() => !window.concertViewer!.connected, null, { timeout: 5000 });
      const second = await make({ port: first.port });
      second.show(pattern(16, 16, 0, 42), { acquisition: 'darks', dropped: 0 });
      await waitFrame(page, 42, 'darks');
      const state = await camera(page);
      assert.equal(state.connections, 2);
      assert.ok(state.connected);
    });

    it('latest-wins: a slow page does not slow a 2000 fps camera, and drops are counted', async () => {
      // Free-running CPU cost is measured by bench/live-view.ts; on this shared machine a unit test
      // can only check that nothing holds the producer back.
      const viewer = await make();
      await page.goto(`${viewer.url}?ackDelay=150`);
      await page.waitForFunction(() => window.concertViewer?.connected, null, { timeout: 5000 });
      const rate = async (withViewer: boolean) => {
        const counter = { n: 0 };
        const exp = await Experiment.create([await Acquisition.create('radios', pacedCamera(2000, 600, counter))]);
        const live = withViewer ? await LiveView.create(exp, { viewer }) : undefined;
        const t0 = performance.now();
        await exp.run();
        const fps = counter.n / ((performance.now() - t0) / 1000);
        await live?.detach();
        return fps;
      };
      const without = await rate(false);
      const withViewer = await rate(true);
      const ratio = withViewer / without;
      console.log(
        `      camera ${without.toFixed(0)} frames/s alone, ${withViewer.toFixed(0)} with a slow page: ratio ${ratio.toFixed(3)}`,
      );
      // Held back by the page (one frame per 150 ms ack) the ratio would be below 0.01; the
      // figure itself (goal ≥ 0.95 on a quiet machine) is bench/live-view.ts's.
      assert.ok(ratio >= 0.5, `throughput ratio ${ratio.toFixed(3)} < 0.5: the page holds the camera back`);
      // The server thread reports its counts a moment later; at most one frame waits in each of the
      // two stages (the session's slot and the server thread's) without being sent or dropped.
      const accounted = (st: ReturnType<typeof viewer.stats>) =>
        st.dropped + st.upstreamDropped >= st.frames - st.sent - 2;
      let stats = viewer.stats();
      for (const deadline = Date.now() + 10_000; !accounted(stats) && Date.now() < deadline; stats = viewer.stats())
        await new Promise((r) => setTimeout(r, 50));
      assert.ok(stats.frames > 500, `frames offered: ${stats.frames}`);
      assert.ok(stats.sent <= stats.drawn + 1, `sent ${stats.sent}, drawn ${stats.drawn}: at most one in flight`);
      assert.ok(stats.sent < 20, `sent ${stats.sent} in 0.6 s to a page that acks after 150 ms`);
      assert.ok(
        accounted(stats),
        `dropped ${stats.dropped} + ${stats.upstreamDropped} of ${stats.frames}, sent ${stats.sent}`,
      );
      await page.waitForFunction(() => Number(document.querySelector('#camera .drops')!.textContent) > 100, null, {
        timeout: 5000,
      });
    });
  });
});
