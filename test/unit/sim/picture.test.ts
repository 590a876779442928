import { describe, expect, it } from 'vitest';
import { decodeJpeg, encodeJpeg } from '../../../sim/jpeg.js';
import { flatPicture, PICTURE_HEIGHT, PICTURE_WIDTH, testPicture } from '../../../sim/picture.js';

function meanAndSpread(bytes: Buffer) {
  const { data } = decodeJpeg(bytes);
  let sum = 0;
  let sumSq = 0;
  const n = data.length / 4;
  for (let i = 0; i < data.length; i += 4) {
    const y = ((data[i] ?? 0) + (data[i + 1] ?? 0) + (data[i + 2] ?? 0)) / 3;
    sum += y;
    sumSq += y * y;
  }
  const mean = sum / n;
  return { mean, spread: Math.sqrt(sumSq / n - mean * mean) };
}

describe('test picture', () => {
  it('encodes to a decodable JPEG of the stated size, rich in contrast', () => {
    const bytes = encodeJpeg(testPicture({ label: 'cam-01 ch 1', time: Date.now(), tint: 0 }));
    expect(bytes.subarray(0, 3)).toEqual(Buffer.from([0xff, 0xd8, 0xff]));
    const image = decodeJpeg(bytes);
    expect([image.width, image.height]).toEqual([PICTURE_WIDTH, PICTURE_HEIGHT]);
    expect(meanAndSpread(bytes).spread).toBeGreaterThan(40);
  });

  it('changes from one second to the next (the clock and the bar move)', () => {
    const t = Date.UTC(2026, 10, 26, 1, 2, 3);
    const a = testPicture({ label: 'x', time: t, tint: 0 }).data;
    const b = testPicture({ label: 'x', time: t + 1000, tint: 0 }).data;
    let differing = 0;
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) differing++;
    expect(differing).toBeGreaterThan(500);
  });

  it('black is dark and flat; covered is mid-grey and flat', () => {
    const black = meanAndSpread(encodeJpeg(flatPicture(0, 0)));
    expect(black.mean).toBeLessThan(5);
    const covered = meanAndSpread(encodeJpeg(flatPicture(110, 3)));
    expect(covered.mean).toBeGreaterThan(90);
    expect(covered.spread).toBeLessThan(5);
  });
});
