/**
 * The picture statistics read from a JPEG's coefficients (agent/jpeg-luma.ts) against a
 * full decode of the same bytes (jpeg-js): the same verdicts on the simulator's live, black
 * and covered pictures (jpeg-js, 4:4:4), and on JPEGs as cameras send them, made from one
 * scene by libjpeg-turbo's cjpeg 2.1.5 (fixtures/: 4:2:0 with a restart interval of 3 MCU
 * rows, greyscale, progressive; 318x178, so the last MCUs are partial); the full decode
 * for what the short way does not read.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { lumaStats, TruncatedJpeg, UnsupportedJpeg } from '../../../agent/jpeg-luma.js';
import {
  analyse,
  decodeAndAnalyse,
  samePicture,
  verdict,
  type PictureStats,
} from '../../../agent/picture.js';
import { decodeJpeg, encodeJpeg } from '../../../sim/jpeg.js';
import { flatPicture, testPicture } from '../../../sim/picture.js';

const fixture = (name: string): Buffer =>
  readFileSync(fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url)));
const scene420 = fixture('scene-420-restart.jpg');

const live = (time: number): Buffer =>
  encodeJpeg(testPicture({ label: 'cam-01 ch 1', time, tint: 40 }));

/** Mean and standard deviation of the luminance of every decoded pixel (BT.601). */
function exact(bytes: Buffer): { luma: number; contrast: number } {
  const { data } = decodeJpeg(bytes);
  let sum = 0;
  let squares = 0;
  for (let i = 0; i < data.length; i += 4) {
    const l = 0.299 * (data[i] ?? 0) + 0.587 * (data[i + 1] ?? 0) + 0.114 * (data[i + 2] ?? 0);
    sum += l;
    squares += l * l;
  }
  const n = data.length / 4;
  return { luma: sum / n, contrast: Math.sqrt(squares / n - (sum / n) ** 2) };
}

function expectClose(bytes: Buffer, fast: PictureStats): void {
  const full = decodeAndAnalyse(bytes);
  expect(fast.width).toBe(full.width);
  expect(fast.height).toBe(full.height);
  expect(verdict(fast)).toBe(verdict(full));
  // Against every pixel: the coefficients give the same figures, but for the clamping and
  // rounding of a decoder (and the padding pixels of partial blocks).
  const truth = exact(bytes);
  expect(Math.abs(fast.luma - truth.luma)).toBeLessThan(1);
  expect(Math.abs(fast.contrast - truth.contrast)).toBeLessThan(
    Math.max(0.5, truth.contrast * 0.03),
  );
}

describe('picture statistics from the JPEG coefficients', () => {
  it.each([
    ['a live picture', live(Date.parse('2026-11-26T08:00:00Z')), 'ok'],
    ['a black picture', encodeJpeg(flatPicture(0, 0)), 'black'],
    ['a covered lens', encodeJpeg(flatPicture(110, 3)), 'covered'],
    ['a 4:2:0 JPEG with restart markers', scene420, 'ok'],
    ['a greyscale JPEG', fixture('scene-gray.jpg'), 'ok'],
  ])('agree with a full decode: %s', (_, bytes, seen) => {
    const fast = lumaStats(bytes);
    expectClose(bytes, fast);
    expect(verdict(fast)).toBe(seen);
  });

  it('tell a frozen picture from a live one', () => {
    const at = Date.parse('2026-11-26T08:00:00Z');
    expect(samePicture(analyse(live(at)), analyse(live(at)))).toBe(true);
    expect(samePicture(analyse(live(at)), analyse(live(at + 1000)))).toBe(false);
  });

  it('leave to the full decode what they do not read, and refuse what is no JPEG', () => {
    const progressive = fixture('scene-progressive.jpg');
    expect(() => lumaStats(progressive)).toThrow(UnsupportedJpeg);
    expect(analyse(progressive)).toEqual(decodeAndAnalyse(progressive));
    expect(verdict(analyse(progressive))).toBe('ok');
    expect(Math.abs(analyse(progressive).luma - lumaStats(scene420).luma)).toBeLessThan(3);
    expect(() => lumaStats(Buffer.from('<html>login</html>'))).toThrow(/not a JPEG/);
    expect(() => analyse(Buffer.from('<html>login</html>'))).toThrow(Error);
    // Cut in the middle of its picture data: the short way says where it ends, and it is
    // not handed to the full decode, never the statistics of half a picture.
    const cut = scene420.subarray(0, Math.floor(scene420.length / 2));
    expect(() => lumaStats(cut)).toThrow(/ends inside its picture data/);
    expect(() => analyse(cut)).toThrow(/ends inside its picture data/);
  });

  it.each([
    ["the simulator's live picture", live(Date.parse('2026-11-26T08:00:00Z'))],
    ['a 4:2:0 JPEG with restart markers', scene420],
  ])('refuse a picture cut short and closed by an end marker: %s', (_, whole) => {
    // What a camera serving a frame it is still encoding, or a proxy's short read, hands
    // out: half the scan, then EOI. Read on as zero bits it measured as a wild picture.
    for (const share of [0.3, 0.5, 0.9]) {
      const at = Math.floor(whole.length * share);
      const cut = Buffer.concat([whole.subarray(0, at), Buffer.from([0xff, 0xd9])]);
      expect(() => lumaStats(cut), `cut at ${share}`).toThrow(TruncatedJpeg);
      expect(() => analyse(cut), `cut at ${share}`).toThrow(
        /picture data ends after \d+ of its \d+ coded units \(MCUs\): cut short/,
      );
    }
    // The whole picture still reads.
    expect(verdict(analyse(whole))).toBe('ok');
  });
});
