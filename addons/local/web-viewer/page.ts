/**
 * The web viewer's page: one self-contained HTML document (no external files) that connects to
 * `/ws`, draws images (bytes already contrast-mapped by the server) through its colormap, tells
 * the server its contrast settings, asks it for the value under the cursor, acks each image, and
 * reconnects when the server goes away. Query parameters set initial controls for both panels:
 * `cmap`, `min` and `max` (manual contrast), `clip` (auto-contrast percentile), `zoom=1` (1:1
 * pixels), `ackDelay` (ms; simulates a slow client).
 * @module
 * @internal
 */

/** Colormaps as evenly spaced control points (hex RGB), interpolated to 256 entries on the page. */
export const COLORMAPS: Record<string, string[]> = {
  gray: ['000000', 'ffffff'],
  viridis: ['440154', '482878', '3e4989', '31688e', '26828e', '1f9e89', '35b779', '6ece58', 'b5de2b', 'fde725'],
  magma: ['000004', '180f3d', '440f76', '721f81', '9e2f7f', 'cd4071', 'f1605d', 'fd9668', 'feca8d', 'fcfdbf'],
  inferno: ['000004', '1b0c41', '4a0c6b', '781c6d', 'a52c60', 'cf4446', 'ed6925', 'fb9b06', 'f7d13d', 'fcffa4'],
  plasma: ['0d0887', '46039f', '7201a8', '9c179e', 'bd3786', 'd8576b', 'ed7953', 'fb9f3a', 'fdca26', 'f0f921'],
  hot: ['000000', 'ff0000', 'ffff00', 'ffffff'],
};

const style = String.raw`
body { margin: 0; font: 13px/22px system-ui, sans-serif; background: #1e1e1e; color: #ddd; }
input, select { font: inherit; line-height: normal; height: 22px; box-sizing: border-box; vertical-align: top; }
header { height: 34px; box-sizing: border-box; display: flex; gap: 1.5em; align-items: center; padding: 6px 10px; background: #2b2b2b; }
header .conn.down { color: #f77; } header .conn.up { color: #7d7; }
progress { width: 12em; height: 12px; }
main { display: flex; flex-wrap: wrap; gap: 10px; padding: 10px; }
section { flex: 1 1 420px; min-width: 300px; background: #262626; padding: 6px; border-radius: 4px; }
section h2 { font-size: 14px; line-height: 22px; margin: 0 0 4px; font-weight: 600; }
.controls, .info { display: flex; flex-wrap: wrap; gap: 4px 10px; align-items: center; margin: 4px 0; }
.controls input[type=number] { width: 6.5em; }
.controls input[type=checkbox] { margin: 0 4px 0 0; }
.view { overflow: auto; max-height: 80vh; background: #111; }
canvas { display: block; image-rendering: pixelated; will-change: transform; }
canvas.fit { width: 100%; height: auto; }
.mono { font-family: ui-monospace, monospace; }
.cursor { height: 22px; margin-bottom: 4px; white-space: nowrap; overflow: hidden; }
`;

const script = String.raw`
(() => {
'use strict';
const COLORMAPS = __COLORMAPS__;
const params = new URLSearchParams(location.search);
const ackDelay = Number(params.get('ackDelay') || 0);
const now = () => performance.timeOrigin + performance.now();

function makeLut(points) {
  const lut = new Uint32Array(256);
  const rgb = points.map((h) => [0, 2, 4].map((i) => parseInt(h.slice(i, i + 2), 16)));
  for (let i = 0; i < 256; i++) {
    const x = (i / 255) * (rgb.length - 1), k = Math.min(Math.floor(x), rgb.length - 2), f = x - k;
    const c = [0, 1, 2].map((j) => Math.round(rgb[k][j] + (rgb[k + 1][j] - rgb[k][j]) * f));
    lut[i] = ((255 << 24) | (c[2] << 16) | (c[1] << 8) | c[0]) >>> 0;
  }
  return lut;
}
const LUTS = {};
for (const name of Object.keys(COLORMAPS)) LUTS[name] = makeLut(COLORMAPS[name]);

function draw(panel) {
  const img = panel.current;
  if (!img) return;
  const [h, w] = img.header.shape, px = img.pixels, c = panel.canvas;
  if (c.width !== w || c.height !== h) { c.width = w; c.height = h; panel.imageData = null; }
  if (!panel.imageData) panel.imageData = panel.ctx.createImageData(w, h);
  panel.lo = img.header.lo; panel.hi = img.header.hi;
  if (panel.auto.checked) {
    const t = performance.now();
    if (t - panel.shownLimitsAt > 250) { panel.min.value = fmt(panel.lo); panel.max.value = fmt(panel.hi); panel.shownLimitsAt = t; }
  }
  const lut = LUTS[panel.cmap.value] || LUTS.gray, out = new Uint32Array(panel.imageData.data.buffer);
  for (let i = 0; i < px.length; i++) out[i] = lut[px[i]];
  panel.ctx.putImageData(panel.imageData, 0, 0);
  updateCursor(panel);
}

/** The panel's contrast controls as a message (null while min or max is not a number). */
function contrastOf(panel) {
  const m = panel.auto.checked
    ? { type: 'contrast', panel: panel.id, auto: true, clip: Number(panel.clip.value) || 0 }
    : { type: 'contrast', panel: panel.id, auto: false, min: Number(panel.min.value), max: Number(panel.max.value) };
  return m.auto || (isFinite(m.min) && isFinite(m.max) && panel.min.value !== '' && panel.max.value !== '') ? m : null;
}
/** Tells the server the panel's contrast; it sends the panel's images again, mapped anew. */
function sendContrast(panel) {
  const m = contrastOf(panel);
  if (m && ws && ws.readyState === 1) ws.send(JSON.stringify(m));
}

function fmt(v) {
  if (Number.isInteger(v)) return String(v);
  return Math.abs(v) >= 1e4 || Math.abs(v) < 1e-3 ? v.toPrecision(4) : String(Number(v.toPrecision(5)));
}

/** Asks the server for the value under the cursor (one question at a time; the newest wins). */
function updateCursor(panel) {
  const img = panel.current, p = panel.pointer;
  if (!img || !p) { panel.cursor.textContent = ''; panel.probe = null; return; }
  const [h, w] = img.header.shape;
  const x = Math.floor(p.fx * w), y = Math.floor(p.fy * h);
  if (x < 0 || y < 0 || x >= w || y >= h) { panel.cursor.textContent = ''; panel.probe = null; return; }
  panel.probe = { x, y, name: img.header.name, frameNumber: img.header.frameNumber, bin: img.header.bin };
  if (!panel.probing) askValue(panel);
}
function askValue(panel) {
  const q = panel.probe;
  if (!q || !ws || ws.readyState !== 1) { panel.probing = false; return; }
  panel.probing = true;
  panel.asked = q;
  ws.send(JSON.stringify({ type: 'probe', panel: panel.id, name: q.name, x: q.x, y: q.y }));
}
function onValue(m) {
  const panel = panels[m.panel], q = panel.asked;
  panel.probing = false;
  if (q && panel.probe === q) {
    const b = m.bin, range = (a) => (b > 1 ? a * b + '–' + (a * b + b - 1) : String(a));
    panel.cursor.textContent = m.value === null
      ? ''
      : 'x ' + range(q.x) + ', y ' + range(q.y) + ': ' + fmt(m.value) + (b > 1 ? ' (' + b + '×' + b + ' mean)' : '');
  } else askValue(panel);
}

const panels = {};
function makePanel(id) {
  const root = document.getElementById(id), q = (s) => root.querySelector(s);
  const panel = {
    id, root, canvas: q('canvas'), ctx: q('canvas').getContext('2d'), auto: q('.auto'), clip: q('.clip'), min: q('.min'), max: q('.max'),
    cmap: q('.cmap'), zoom: q('.zoom'), names: q('.names'), title: q('.title'), frame: q('.frame'), fps: q('.fps'), drops: q('.drops'),
    shape: q('.shape'), cursor: q('.cursor'), images: new Map(), current: null, imageData: null, lo: 0, hi: 1, shownLimitsAt: 0,
    drawn: 0, draws: [], pointer: null, lastHeader: null, probe: null, probing: false, asked: null, contrast: null,
  };
  for (const name of Object.keys(COLORMAPS)) panel.cmap.add(new Option(name, name));
  panel.cmap.value = params.get('cmap') || 'gray';
  if (params.has('clip')) panel.clip.value = params.get('clip');
  if (params.has('min') && params.has('max')) {
    panel.auto.checked = false; panel.min.value = params.get('min'); panel.max.value = params.get('max');
  }
  if (params.get('zoom') === '1') panel.zoom.value = '1';
  const applyZoom = () => panel.canvas.classList.toggle('fit', panel.zoom.value !== '1');
  applyZoom();
  panel.zoom.onchange = applyZoom;
  panel.cmap.onchange = () => draw(panel); // the colormap is the page's own
  panel.auto.onchange = panel.clip.oninput = () => sendContrast(panel);
  panel.min.oninput = panel.max.oninput = () => { panel.auto.checked = false; sendContrast(panel); };
  if (panel.names) panel.names.onchange = () => select(panel);
  panel.canvas.onmousemove = (e) => {
    const r = panel.canvas.getBoundingClientRect();
    panel.pointer = { fx: (e.clientX - r.left) / r.width, fy: (e.clientY - r.top) / r.height };
    updateCursor(panel);
  };
  panel.canvas.onmouseleave = () => { panel.pointer = null; updateCursor(panel); };
  panels[id] = panel;
  return panel;
}

function select(panel) {
  const wanted = panel.names && panel.names.value;
  const img = wanted ? panel.images.get(wanted) : panel.latest;
  if (img) { panel.current = img; draw(panel); showInfo(panel, img.header); }
}

function showInfo(panel, hd) {
  panel.title.textContent = hd.name;
  panel.frame.textContent = String(hd.frameNumber);
  panel.drops.textContent = String(hd.dropped);
  const o = hd.originalShape;
  panel.shape.textContent = o[1] + '×' + o[0] + ' ' + hd.dtype + (hd.bin > 1 ? ', shown binned ' + hd.bin + '×' + hd.bin : '');
}

function onImage(buf) {
  const receivedAt = now();
  const n = new DataView(buf).getUint32(0, true);
  const hd = JSON.parse(new TextDecoder().decode(new Uint8Array(buf, 4, n)));
  const off = Math.ceil((4 + n) / 8) * 8;
  const pixels = new Uint8Array(buf, off, hd.shape[0] * hd.shape[1]);
  const panel = panels[hd.panel];
  const img = { header: hd, pixels };
  panel.lastHeader = hd;
  panel.latest = img;
  if (panel.names) {
    if (!panel.images.has(hd.name)) panel.names.add(new Option(hd.name, hd.name));
    panel.images.set(hd.name, img);
  }
  if (!panel.names || !panel.names.value || panel.names.value === hd.name) { panel.current = img; draw(panel); showInfo(panel, hd); }
  const drawnAt = now();
  panel.drawn++;
  const t = performance.now();
  panel.draws.push(t);
  while (panel.draws.length && t - panel.draws[0] > 1000) panel.draws.shift();
  panel.fps.textContent = panel.draws.length > 1 ? ((1000 * (panel.draws.length - 1)) / (t - panel.draws[0])).toFixed(1) : '–';
  const ack = JSON.stringify({
    type: 'ack', panel: hd.panel, name: hd.name, seq: hd.seq, frameNumber: hd.frameNumber, receivedAt, drawnAt,
  });
  const socket = ws;
  const send = () => { if (socket && socket.readyState === 1) socket.send(ack); };
  if (ackDelay > 0) setTimeout(send, ackDelay); else send();
}

const conn = document.getElementById('conn'), stateEl = document.getElementById('state');
const bar = document.getElementById('progress'), progressText = document.getElementById('progressText');
function onJson(m) {
  if (m.type === 'hello') { viewer.session = m.session; viewer.hello++; }
  else if (m.type === 'value') onValue(m);
  else if (m.type === 'status') {
    stateEl.textContent = m.state || '–';
    const p = m.progress;
    if (p && p.total > 0) {
      bar.max = p.total; bar.value = p.done;
      progressText.textContent = p.done + ' / ' + p.total + ' (' + Math.round((100 * p.done) / p.total) + ' %)';
    }
    else if (p) { bar.removeAttribute('value'); progressText.textContent = p.done ? String(p.done) : ''; }
    else { bar.value = 0; progressText.textContent = ''; }
  } else if (m.type === 'stream') {
    panels.camera.title.textContent = m.acquisition + (m.running ? '' : ' (ended)');
  }
}

let ws = null, retryMs = 250;
function connect() {
  // The contrast of both panels goes with the connection, so the first images are mapped with it.
  const contrast = {};
  for (const p of Object.values(panels)) { const m = contrastOf(p); if (m) contrast[p.id] = m; }
  const scheme = location.protocol === 'https:' ? 'wss://' : 'ws://';
  const socket = new WebSocket(scheme + location.host + '/ws?contrast=' + encodeURIComponent(JSON.stringify(contrast)));
  socket.binaryType = 'arraybuffer';
  ws = socket;
  socket.onopen = () => {
    retryMs = 250; viewer.connected = true; viewer.connections++;
    conn.textContent = 'connected'; conn.className = 'conn up';
  };
  socket.onmessage = (e) => { if (typeof e.data === 'string') onJson(JSON.parse(e.data)); else onImage(e.data); };
  socket.onclose = () => {
    if (ws !== socket) return;
    viewer.connected = false;
    conn.textContent = 'disconnected — reconnecting'; conn.className = 'conn down';
    setTimeout(connect, retryMs);
    retryMs = Math.min(2000, retryMs * 2);
  };
}

const viewer = (window.concertViewer = { connected: false, connections: 0, hello: 0, session: null, panels });
makePanel('camera');
makePanel('slice');
connect();
})();
`;

const panelHtml = (id: string, label: string, names: boolean) => `
<section id="${id}">
  <h2>${label}: <span class="title">–</span>${names ? ' <select class="names"><option value="">latest</option></select>' : ''}</h2>
  <div class="controls">
    <label>colormap <select class="cmap"></select></label>
    <label><input type="checkbox" class="auto" checked> auto</label>
    <label>clip % <input type="number" class="clip" value="0.5" min="0" max="49" step="0.1" style="width:4em"></label>
    <label>min <input type="number" class="min" step="any"></label>
    <label>max <input type="number" class="max" step="any"></label>
    <label>zoom <select class="zoom"><option value="fit">fit</option><option value="1">1:1</option></select></label>
  </div>
  <div class="info">
    <span>frame <b class="frame mono">–</b></span><span>fps <b class="fps mono">–</b></span>
    <span>dropped <b class="drops mono">0</b></span><span class="shape"></span>
  </div>
  <div class="cursor mono"></div>
  <div class="view"><canvas width="1" height="1"></canvas></div>
</section>`;

/** The page's HTML. */
export function pageHtml(title = 'Concert live view'): string {
  const esc = title.replace(/[<>&"]/g, (c) => `&#${c.charCodeAt(0)};`);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>${style}</style></head>
<body>
<header><b>${esc}</b><span id="conn" class="conn down">connecting</span>
<span>state <b id="state">–</b></span>
<span><progress id="progress" value="0" max="1"></progress> <span id="progressText"></span></span></header>
<main>${panelHtml('camera', 'Camera', false)}${panelHtml('slice', 'Slices', true)}</main>
<script>${script.replace('__COLORMAPS__', JSON.stringify(COLORMAPS))}</script>
</body></html>
`;
}
