/**
 * The simulator's snapshots are as strict as real cameras: a live picture is never the
 * same twice (sensor noise, even of a static scene), within a second it is one frame, a
 * frozen one is the same bytes, a blurred one keeps the light of the scene.
 */
import { describe, expect, it } from 'vitest';
import { decodeJpeg } from '../../../sim/jpeg.js';
import { SnapshotSource } from '../../../sim/snapshot.js';

const AT = Date.parse('2026-12-06T08:00:00Z');

function meanLuma(bytes: Buffer): number {
  const { data } = decodeJpeg(bytes);
  let sum = 0;
  for (let i = 0; i < data.length; i += 4) {
    sum += 0.299 * (data[i] ?? 0) + 0.587 * (data[i + 1] ?? 0) + 0.114 * (data[i + 2] ?? 0);
  }
  return sum / (data.length / 4);
}

describe('snapshots', () => {
  it('of a static scene differ each second by their noise alone, and are one frame within it', () => {
    const source = new SnapshotSource('cam-01', 40, 'static');
    const a = source.picture(1, 'live', AT);
    expect(source.picture(1, 'live', AT + 500).equals(a)).toBe(true);
    const b = source.picture(1, 'live', AT + 60_000);
    expect(b.equals(a)).toBe(false);
    // Another channel, the same second: its own noise.
    expect(source.picture(2, 'live', AT).equals(a)).toBe(false);
    // Noise only: the light of the scene stays.
    expect(Math.abs(meanLuma(a) - meanLuma(b))).toBeLessThan(0.5);
  });

  it('frozen: the bytes of the moment it froze, noise and all', () => {
    const source = new SnapshotSource('cam-01', 40);
    source.freezeNow(1, AT);
    const kept = source.picture(1, 'frozen', AT + 5000);
    expect(source.picture(1, 'frozen', AT + 65_000).equals(kept)).toBe(true);
    expect(source.picture(1, 'live', AT + 70_000).equals(kept)).toBe(false);
  });

  it('blurred: the same light, a new frame each second', () => {
    const source = new SnapshotSource('cam-01', 40);
    const sharp = source.picture(1, 'live', AT);
    const blurred = source.picture(1, 'blurred', AT);
    expect(Math.abs(meanLuma(sharp) - meanLuma(blurred))).toBeLessThan(2);
    expect(source.picture(1, 'blurred', AT + 1000).equals(blurred)).toBe(false);
  });
});
