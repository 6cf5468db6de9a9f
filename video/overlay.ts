/**
 * Text burnt into 8-bit grey images (frame number, angle): a built-in 5×7 pixel font, so no
 * font file or ffmpeg text filter is needed. White text on a black box in the top-left corner.
 * @module
 */
import type { FrameMetadata } from '../core/index.js';

/** What an overlay shows. */
export type OverlayField = 'frameNumber' | 'angle';

// Rows of 5 bits, most significant bit left.
const GLYPHS: Record<string, readonly number[]> = {
  '0': [0x0e, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0e],
  '1': [0x04, 0x0c, 0x04, 0x04, 0x04, 0x04, 0x0e],
  '2': [0x0e, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1f],
  '3': [0x1f, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0e],
  '4': [0x02, 0x06, 0x0a, 0x12, 0x1f, 0x02, 0x02],
  '5': [0x1f, 0x10, 0x1e, 0x01, 0x01, 0x11, 0x0e],
  '6': [0x06, 0x08, 0x10, 0x1e, 0x11, 0x11, 0x0e],
  '7': [0x1f, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08],
  '8': [0x0e, 0x11, 0x11, 0x0e, 0x11, 0x11, 0x0e],
  '9': [0x0e, 0x11, 0x11, 0x0f, 0x01, 0x02, 0x0c],
  '#': [0x0a, 0x0a, 0x1f, 0x0a, 0x1f, 0x0a, 0x0a],
  '.': [0x00, 0x00, 0x00, 0x00, 0x00, 0x0c, 0x0c],
  '-': [0x00, 0x00, 0x00, 0x1f, 0x00, 0x00, 0x00],
  '°': [0x0c, 0x12, 0x12, 0x0c, 0x00, 0x00, 0x00],
  ' ': [0, 0, 0, 0, 0, 0, 0],
};

/** The overlay text of a frame: `#12  45.00°` (fields whose metadata is missing are left out). */
export function overlayText(metadata: FrameMetadata, fields: readonly OverlayField[]): string {
  const parts: string[] = [];
  if (fields.includes('frameNumber')) parts.push(`#${metadata.frameNumber}`);
  const angle = metadata.angle;
  if (fields.includes('angle') && typeof angle === 'number' && Number.isFinite(angle))
    parts.push(`${angle.toFixed(2)}°`);
  return parts.join('  ');
}

/**
 * Draws `text` into the `width × height` grey image `pixels` (in place), scaled to about a
 * fortieth of the image width; characters without a glyph are drawn as spaces. White glyphs on
 * black, as 255 and 0 (`'video'`: the video range's 235 and 16).
 */
export function drawText(
  pixels: Uint8Array,
  width: number,
  height: number,
  text: string,
  range: 'full' | 'video' = 'full',
): void {
  if (!text) return;
  const scale = Math.max(1, Math.round(width / 320));
  const advance = 6 * scale;
  const margin = scale;
  const boxWidth = Math.min(width, text.length * advance + 2 * margin);
  const boxHeight = Math.min(height, 7 * scale + 2 * margin);
  const [black, white] = range === 'video' ? [16, 235] : [0, 255];
  for (let y = 0; y < boxHeight; y++) pixels.fill(black, y * width, y * width + boxWidth);
  for (let c = 0; c < text.length; c++) {
    const glyph = GLYPHS[text[c]!] ?? GLYPHS[' ']!;
    const x0 = margin + c * advance;
    for (let row = 0; row < 7; row++) {
      const bits = glyph[row]!;
      for (let col = 0; col < 5; col++) {
        if (!(bits & (0x10 >> col))) continue;
        for (let dy = 0; dy < scale; dy++) {
          const y = margin + row * scale + dy;
          if (y >= height) break;
          const start = y * width + x0 + col * scale;
          const end = Math.min(start + scale, (y + 1) * width);
          if (x0 + col * scale < width) pixels.fill(white, start, end);
        }
      }
    }
  }
}
