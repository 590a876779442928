/**
 * Blur and frozen, judged on the simulator's own pictures (sim/picture.ts): the sharpness
 * read from a JPEG's coefficients (agent/jpeg-luma.ts) against the same measure over every
 * decoded pixel, a live picture against the same scene through a lens out of focus, a
 * plain picture, the same scene at dusk; the camera's own baseline (agent/picture.ts
 * judgeSharpness); and frozen meaning "identical to the pixel", so that a static scene with
 * its sensor noise is live.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { lumaStats, workingScale } from '../../../agent/jpeg-luma.js';
import {
  analyse,
  decodeAndAnalyse,
  judgeSharpness,
  samePicture,
  verdict,
  type BlurSettings,
  type SharpnessBaseline,
} from '../../../agent/picture.js';
import { encodeJpeg, type RgbaImage } from '../../../sim/jpeg.js';
import {
  addSensorNoise,
  blurredPicture,
  flatPicture,
  testPicture,
  type SceneKind,
} from '../../../sim/picture.js';

const AT = Date.parse('2026-12-06T08:00:00Z');

const scene = (time = AT, kind: SceneKind = 'clock'): RgbaImage =>
  testPicture({ label: 'cam-01 ch 1', time, tint: 40, scene: kind });

/** As the simulator serves it: the scene (maybe blurred), then this frame's sensor noise. */
const frame = (image: RgbaImage, seed: number): Buffer => encodeJpeg(addSensorNoise(image, seed));

/** The same picture at dusk: every pixel's distance from mid grey halved, then darker. */
function dimmed(image: RgbaImage): RgbaImage {
  const data = Uint8Array.from(image.data, (v, i) => (i % 4 === 3 ? v : Math.round(v / 2 + 20)));
  return { ...image, data };
}

/** Each pixel repeated n times across and down: the same view from a sensor n times finer. */
function enlarged(image: RgbaImage, n: number): RgbaImage {
  const width = image.width * n;
  const height = image.height * n;
  const data = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const from = (Math.floor(y / n) * image.width + Math.floor(x / n)) * 4;
      data.set(image.data.subarray(from, from + 4), (y * width + x) * 4);
    }
  }
  return { width, height, data };
}

const fixture = (name: string): Buffer =>
  readFileSync(fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url)));

describe('the sharpness of a picture', () => {
  it.each([
    ['a live picture', frame(scene(), 1)],
    ['a blurred picture', frame(blurredPicture(scene()), 1)],
    ['a static scene', frame(scene(AT, 'static'), 1)],
    ['a 4:2:0 JPEG with restart markers (cjpeg)', fixture('scene-420-restart.jpg')],
    ['a greyscale JPEG (cjpeg)', fixture('scene-gray.jpg')],
  ])('read from the coefficients, is the one every decoded pixel gives: %s', (_, bytes) => {
    const fast = lumaStats(bytes);
    const full = decodeAndAnalyse(bytes);
    // Up to a decoder's clamping, and its rounding of each pixel to a step: uniform noise
    // of variance 1/12, whose 5-point Laplacian has a variance of 20/12 (under 2 steps^2).
    const rounding = 2 / full.contrast ** 2;
    expect(Math.abs(fast.sharpness - full.sharpness)).toBeLessThan(
      full.sharpness * 0.05 + rounding,
    );
  });

  it('falls far when the lens is out of focus, and not at dusk', () => {
    const live = analyse(frame(scene(), 1)).sharpness;
    const blurred = analyse(frame(blurredPicture(scene()), 1));
    expect(verdict(blurred)).toBe('ok'); // not black, not covered: blurred is its own verdict
    expect(blurred.sharpness).toBeLessThan(live * 0.2);
    // Half the contrast and darker: the Laplacian's variance and the picture's fall alike.
    const dusk = analyse(frame(dimmed(scene()), 1));
    expect(dusk.contrast).toBeLessThan(analyse(frame(scene(), 1)).contrast * 0.6);
    expect(dusk.sharpness).toBeGreaterThan(live * 0.7);
    // Another second, another noise: the same scene measures the same.
    expect(analyse(frame(scene(AT + 1000), 2)).sharpness).toBeGreaterThan(live * 0.8);
  });

  it('is nothing to speak of in a flat picture, which is covered anyway', () => {
    const flat = analyse(encodeJpeg(flatPicture(128, 0)));
    expect(flat.sharpness).toBeLessThan(1e-3);
    expect(verdict(analyse(encodeJpeg(flatPicture(110, 3))))).toBe('covered');
  });

  it('is measured at a working scale on large pictures, alike from coefficients and pixels', () => {
    expect([workingScale(320, 180), workingScale(1920, 1080), workingScale(3840, 2160)]).toEqual([
      1, 2, 4,
    ]);
    expect(workingScale(1080, 1920)).toBe(2); // corridor mode: the longer side counts
    // 2240x1260 (7 times, so block edges fall inside the enlarged pixels): scale 2.
    const big = encodeJpeg(addSensorNoise(enlarged(scene(), 7), 3));
    const fast = lumaStats(big);
    const full = decodeAndAnalyse(big);
    expect([fast.width, fast.height]).toEqual([2240, 1260]);
    // Shrinking in the DCT domain and by averaging differ a little at the top frequencies.
    expect(Math.abs(fast.sharpness - full.sharpness)).toBeLessThan(full.sharpness * 0.25);
    const blurredBig = lumaStats(
      encodeJpeg(addSensorNoise(enlarged(blurredPicture(scene()), 7), 3)),
    );
    expect(blurredBig.sharpness).toBeLessThan(fast.sharpness * 0.2);
  });
});

describe('a frozen picture is the same to the pixel', () => {
  it('a static scene differs from one frame to the next by its sensor noise alone', () => {
    const one = analyse(frame(scene(AT, 'static'), 1));
    const next = analyse(frame(scene(AT + 60_000, 'static'), 2));
    expect(samePicture(one, next)).toBe(false);
    // Without the noise the two frames of a static scene are one picture: that is what
    // a stuck encoder serves.
    const still = (t: number) => analyse(encodeJpeg(scene(t, 'static')));
    expect(samePicture(still(AT), still(AT + 60_000))).toBe(true);
    // The same bytes again: frozen.
    const bytes = frame(scene(), 1);
    expect(samePicture(analyse(bytes), analyse(bytes))).toBe(true);
    // The long way agrees.
    expect(samePicture(decodeAndAnalyse(bytes), decodeAndAnalyse(Buffer.from(bytes)))).toBe(true);
  });
});

describe("the camera's own baseline", () => {
  const settings: BlurSettings = { blurFraction: 0.4, blurPolls: 3, blurBaselinePolls: 5 };
  const fresh = (usual: number): SharpnessBaseline => ({ usual, learned: 0, below: 0 });

  it('judges nothing before it has learned, then blurred after blurPolls low polls', () => {
    const b = fresh(0.1);
    // While it learns, even a very low picture is learned (and so not judged).
    for (let i = 0; i < 5; i++) expect(judgeSharpness(b, 0.1, settings)).toBe(false);
    expect(b.learned).toBe(5);
    expect(judgeSharpness(b, 0.02, settings)).toBe(false);
    expect(judgeSharpness(b, 0.02, settings)).toBe(false);
    expect(judgeSharpness(b, 0.02, settings)).toBe(true);
    // Low pictures are not learned: the usual stays what the camera showed when sharp.
    expect(b.usual).toBeCloseTo(0.1, 6);
    expect(b.learned).toBe(5);
    // Sharp again: the run ends at once.
    expect(judgeSharpness(b, 0.09, settings)).toBe(false);
    expect(b.below).toBe(0);
  });

  it('a plain scene is usual for its camera, not blurred', () => {
    // A white wall or a dark car park: a tenth of the detail of a street, always.
    const b = fresh(0.01);
    for (let i = 0; i < 100; i++) {
      expect(judgeSharpness(b, 0.01 * (1 + 0.3 * Math.sin(i)), settings)).toBe(false);
    }
  });

  it('rises quickly to a sharper scene and falls slowly', () => {
    const b = fresh(0.05);
    for (let i = 0; i < 20; i++) judgeSharpness(b, 0.1, settings);
    expect(b.usual).toBeGreaterThan(0.09);
    // A moment of rain or motion at 60 % does not pull the usual down much.
    for (let i = 0; i < 4; i++) judgeSharpness(b, 0.06, settings);
    expect(b.usual).toBeGreaterThan(0.095 - 0.004);
  });
});
