/**
 * The test picture a simulated camera "sees": colour bars tinted per device, a bar that
 * moves every second and a large clock (HH:MM:SS of the device clock), so a snapshot
 * taken a second later differs, a frozen one does not, and a person can read the time.
 * A `static` scene leaves the bar and the clock out: a view where nothing moves, which
 * only the sensor noise (`addSensorNoise`, every live frame) tells from a frozen one.
 * Drawn pixel by pixel with a 5x7 font of our own: no canvas dependency.
 */
import type { RgbaImage } from './jpeg.js';

export const PICTURE_WIDTH = 320;
export const PICTURE_HEIGHT = 180;

/** 5x7 glyphs: 7 rows of 5 columns, row after row ('#' = ink). */
const FONT: Record<string, string> = {
  '0': '.###.#...##..###.#.###..##...#.###.',
  '1': '..#...##....#....#....#....#...###.',
  '2': '.###.#...#....#...#...#...#...#####',
  '3': '#####...#...#.....#.....##...#.###.',
  '4': '...#...##..#.#.#..#.#####...#....#.',
  '5': '######....####.....#....##...#.###.',
  '6': '..##..#...#....####.#...##...#.###.',
  '7': '#####....#...#...#...#....#....#...',
  '8': '.###.#...##...#.###.#...##...#.###.',
  '9': '.###.#...##...#.####....#...#..##..',
  ':': '......##...##........##...##.......',
  '-': '...............#####...............',
  ' ': '...................................',
  '.': '..........................##...##..',
  '/': '.........#...#...#...#...#.........',
  A: '.###.#...##...#######...##...##...#',
  B: '####.#...##...#####.#...##...#####.',
  C: '.###.#...##....#....#....#...#.###.',
  D: '###..#..#.#...##...##...##..#.###..',
  E: '######....#....####.#....#....#####',
  F: '######....#....####.#....#....#....',
  G: '.###.#...##....#.####...##...#.####',
  H: '#...##...##...#######...##...##...#',
  I: '.###...#....#....#....#....#...###.',
  J: '..###...#....#....#....#.#..#..##..',
  K: '#...##..#.#.#..##...#.#..#..#.#...#',
  L: '#....#....#....#....#....#....#####',
  M: '#...###.###.#.##.#.##...##...##...#',
  N: '#...##...###..##.#.##..###...##...#',
  O: '.###.#...##...##...##...##...#.###.',
  P: '####.#...##...#####.#....#....#....',
  Q: '.###.#...##...##...##.#.##..#..##.#',
  R: '####.#...##...#####.#.#..#..#.#...#',
  S: '.#####....#.....###.....#....#####.',
  T: '#####..#....#....#....#....#....#..',
  U: '#...##...##...##...##...##...#.###.',
  V: '#...##...##...##...##...#.#.#...#..',
  W: '#...##...##...##.#.##.#.##.#.#.#.#.',
  X: '#...##...#.#.#...#...#.#.#...##...#',
  Y: '#...##...#.#.#...#....#....#....#..',
  Z: '#####....#...#...#...#...#....#####',
};

/** SMPTE-like bars: white, yellow, cyan, green, magenta, red, blue. */
const BARS: [number, number, number][] = [
  [235, 235, 235],
  [235, 235, 16],
  [16, 235, 235],
  [16, 235, 16],
  [235, 16, 235],
  [235, 16, 16],
  [16, 16, 235],
];

/** What a camera looks at: `clock` (bars, a moving block, a clock) or `static` (bars only). */
export type SceneKind = 'clock' | 'static';

export interface PictureInput {
  /** Text under the clock, e.g. "CAM-01 CH 1" (unknown characters draw as blanks). */
  label: string;
  /** The device clock in ms since the epoch: the clock and the moving bar come from it. */
  time: number;
  /** 0..255, tints the bars so each device's picture differs. */
  tint: number;
  /** `clock` when absent. */
  scene?: SceneKind;
}

export function testPicture(input: PictureInput): RgbaImage {
  const width = PICTURE_WIDTH;
  const height = PICTURE_HEIGHT;
  const data = new Uint8Array(width * height * 4);
  const barsBottom = Math.round(height * 0.55);
  const barWidth = width / BARS.length;
  const second = Math.floor(input.time / 1000);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 4;
      let rgb: [number, number, number];
      if (y < barsBottom) {
        const bar = BARS[Math.min(BARS.length - 1, Math.floor(x / barWidth))] ?? [0, 0, 0];
        rgb = [bar[0], (bar[1] + input.tint) % 256, bar[2]];
      } else {
        rgb = [24, 24, 32];
      }
      data[i] = rgb[0];
      data[i + 1] = rgb[1];
      data[i + 2] = rgb[2];
      data[i + 3] = 255;
    }
  }
  if (input.scene !== 'static') {
    // A black block that walks along the bars, one step per second.
    const step = (second % 20) * (width / 20);
    fillRect(data, width, step, barsBottom - 24, width / 20, 20, [0, 0, 0]);
    const clock = new Date(input.time).toISOString().slice(11, 19);
    drawText(data, width, clock, 16, barsBottom + 10, 6, [255, 255, 255]);
  }
  drawText(data, width, input.label.toUpperCase(), 16, barsBottom + 62, 2, [200, 200, 200]);
  return { width, height, data };
}

/** A uniform picture (black, or the grey of a covered lens) with a little sensor noise. */
export function flatPicture(level: number, noise: number): RgbaImage {
  const width = PICTURE_WIDTH;
  const height = PICTURE_HEIGHT;
  const data = new Uint8Array(width * height * 4);
  let seed = 12345;
  for (let i = 0; i < data.length; i += 4) {
    // A fixed LCG: the same "noise" every time, so the picture is reproducible.
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    const value = Math.max(0, Math.min(255, level + ((seed >> 16) % (2 * noise + 1)) - noise));
    data[i] = value;
    data[i + 1] = value;
    data[i + 2] = value;
    data[i + 3] = 255;
  }
  return { width, height, data };
}

/**
 * The noise of an image sensor, new in every frame: each pixel's brightness moved by up
 * to `amplitude` steps (uniform; the same step on R, G and B, so it is luminance noise).
 * A real camera's picture is never the same twice even when nothing moves, which is how
 * the agent tells a frozen picture from a static scene. `seed` picks the frame's noise
 * (xorshift32, Marsaglia 2003): the same seed, the same noise.
 */
export function addSensorNoise(image: RgbaImage, seed: number, amplitude = 2): RgbaImage {
  const data = image.data;
  const span = 2 * amplitude + 1;
  let x = seed >>> 0 || 0x9e3779b9;
  for (let i = 0; i < data.length; i += 4) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    const step = (x % span) - amplitude;
    for (let c = 0; c < 3; c++) data[i + c] = Math.max(0, Math.min(255, (data[i + c] ?? 0) + step));
  }
  return image;
}

function fillRect(
  data: Uint8Array,
  width: number,
  x0: number,
  y0: number,
  w: number,
  h: number,
  rgb: [number, number, number],
): void {
  const height = data.length / 4 / width;
  for (let y = Math.max(0, Math.floor(y0)); y < Math.min(height, y0 + h); y++) {
    for (let x = Math.max(0, Math.floor(x0)); x < Math.min(width, x0 + w); x++) {
      const i = (y * width + x) * 4;
      data[i] = rgb[0];
      data[i + 1] = rgb[1];
      data[i + 2] = rgb[2];
    }
  }
}

function drawText(
  data: Uint8Array,
  width: number,
  text: string,
  x: number,
  y: number,
  scale: number,
  rgb: [number, number, number],
): void {
  let cursor = x;
  for (const char of text) {
    const glyph = FONT[char] ?? FONT[' '] ?? '';
    const columns = 5;
    for (let row = 0; row < 7; row++) {
      for (let col = 0; col < columns; col++) {
        if (glyph[row * columns + col] === '#') {
          fillRect(data, width, cursor + col * scale, y + row * scale, scale, scale, rgb);
        }
      }
    }
    cursor += (columns + 1) * scale;
  }
}

/**
 * The picture through a lens out of focus: three passes of a box blur of `radius` pixels
 * across and down (close to a Gaussian blur, as defocus looks), colours and brightness kept.
 * Edges blur into a soft ramp, so the picture's sharpness (what the agent measures) falls
 * while its mean light does not: not black, not covered, just blurred.
 */
export function blurredPicture(image: RgbaImage, radius = 4): RgbaImage {
  const { width, height } = image;
  let data: Uint8Array = Uint8Array.from(image.data);
  for (let pass = 0; pass < 3; pass++) {
    data = boxBlur(data, width, height, radius, 'across');
    data = boxBlur(data, width, height, radius, 'down');
  }
  return { width, height, data };
}

/** One box-blur pass across the rows or down the columns; pixels past the border repeat the edge. */
function boxBlur(
  source: Uint8Array,
  width: number,
  height: number,
  radius: number,
  direction: 'across' | 'down',
): Uint8Array {
  const across = direction === 'across';
  const out = new Uint8Array(source.length);
  const lines = across ? height : width;
  const length = across ? width : height;
  const span = 2 * radius + 1;
  for (let line = 0; line < lines; line++) {
    const at = (k: number): number => {
      const clamped = Math.min(length - 1, Math.max(0, k));
      return across ? (line * width + clamped) * 4 : (clamped * width + line) * 4;
    };
    for (let c = 0; c < 3; c++) {
      let sum = 0;
      for (let k = -radius; k <= radius; k++) sum += source[at(k) + c] ?? 0;
      for (let k = 0; k < length; k++) {
        out[at(k) + c] = Math.round(sum / span);
        sum += (source[at(k + radius + 1) + c] ?? 0) - (source[at(k - radius) + c] ?? 0);
      }
    }
    for (let k = 0; k < length; k++) out[at(k) + 3] = 255;
  }
  return out;
}
