/**
 * The simulator's JPEG encoder kept across pictures (sim/jpeg.ts) writes the very bytes
 * jpeg-js's own encode writes, picture after picture and quality after quality, so
 * keeping it changes nothing a device serves; and it is found (the fast path is taken).
 */
import { describe, expect, it } from 'vitest';
import { decodeJpeg, encodeJpeg, reusableEncoderClass } from '../../../sim/jpeg.js';
import { addSensorNoise, blurredPicture, flatPicture, testPicture } from '../../../sim/picture.js';

describe('the kept JPEG encoder', () => {
  it('is found in jpeg-js', () => {
    expect(reusableEncoderClass()).toBeTypeOf('function');
  });

  it('writes the bytes a fresh encoder writes, for every picture in a row', () => {
    const scene = testPicture({ label: 'cam-01 ch 1', time: Date.UTC(2026, 11, 6), tint: 3 });
    const pictures = [
      scene,
      addSensorNoise(scene, 1),
      addSensorNoise(scene, 2),
      blurredPicture(scene),
      flatPicture(0, 0),
      flatPicture(110, 3),
      testPicture({ label: '中文 ch 2', time: Date.UTC(2026, 11, 7), tint: 9, scene: 'static' }),
    ];
    for (const quality of [70, 90, 70]) {
      for (const picture of pictures) {
        const kept = encodeJpeg(picture, quality);
        expect(kept.equals(encodeJpeg(picture, quality, false))).toBe(true);
        expect(decodeJpeg(kept).width).toBe(picture.width);
      }
    }
  });

  it('encodes a picture that is a view into a larger buffer from its own bytes only', () => {
    const picture = flatPicture(200, 0);
    const larger = new Uint8Array(picture.data.length + 64);
    larger.set(picture.data, 32);
    const view = { ...picture, data: larger.subarray(32, 32 + picture.data.length) };
    expect(encodeJpeg(view).equals(encodeJpeg(picture))).toBe(true);
  });
});
