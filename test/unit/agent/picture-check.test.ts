/**
 * The picture check (agent/checks/picture.ts) over a fake client serving JPEGs made here:
 * a sharpness is compared only with the same size and JPEG quantization, so a camera whose
 * snapshot quality changes learns anew instead of being called blurred (review-a 5); a
 * snapshot cut short is snapshot-failed, never measured nor learned (review-a 3).
 */
import { describe, expect, it } from 'vitest';
import { picture } from '../../../agent/checks/picture.js';
import { DeviceMemory, type CheckContext } from '../../../agent/checks/types.js';
import { checkDefaults } from '../../../agent/config.js';
import type { OnvifClient } from '../../../agent/onvif/types.js';
import { encodeJpeg } from '../../../sim/jpeg.js';
import { pollOnce, sixteenChannels } from './recorder-fixture.js';

const W = 320;
const H = 240;

/** A view with fine texture (what the quantization takes first), and a new noise each frame. */
function view(frame: number, quality: number): Buffer {
  const data = new Uint8Array(W * H * 4);
  let seed = frame + 1;
  for (let p = 0; p < W * H; p++) {
    const x = p % W;
    const y = Math.floor(p / W);
    seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
    const l =
      128 +
      50 * Math.sin(x / 9) * Math.cos(y / 7) +
      12 * Math.sin(x * 1.3 + 3 * Math.sin(y * 0.7)) * Math.cos(y * 0.9) +
      (seed >>> 30) -
      1.5;
    data.fill(Math.max(0, Math.min(255, Math.round(l))), p * 4, p * 4 + 3);
    data[p * 4 + 3] = 255;
  }
  return encodeJpeg({ width: W, height: H, data }, quality);
}

function camera() {
  const served = { next: (_frame: number): Buffer => view(_frame, 95) };
  let frame = 0;
  const client = {
    snapshotUri: async () => 'http://192.0.2.10/snapshot.jpg',
    snapshot: async () => served.next(frame++),
  } as Partial<OnvifClient> as OnvifClient;
  const memory = new DeviceMemory();
  memory.channels = [
    {
      profileToken: 'P1',
      sourceToken: 'V1',
      name: 'Gate',
      encoding: 'H264',
      width: W,
      height: H,
      profiles: 1,
    },
  ];
  const clock = { at: Date.parse('2026-12-06T08:00:00Z') };
  const poll = async () => {
    clock.at += 15_000;
    return picture.run({
      client,
      signal: new AbortController().signal,
      memory,
      settings: { ...checkDefaults, blurBaselinePolls: 3, blurPolls: 2 },
      now: () => clock.at,
    } as Partial<CheckContext> as CheckContext);
  };
  const codes = async () => (await poll()).degraded?.map((r) => r.code) ?? [];
  return { served, memory, poll, codes };
}

describe('the picture check', () => {
  it('learns anew when the snapshot quality changes, instead of calling it blurred', async () => {
    const cam = camera();
    for (let i = 0; i < 4; i++) expect(await cam.codes()).toEqual([]);
    const sharp = cam.memory.pictures.get('V1')?.baseline;
    expect(sharp?.learned).toBe(4);
    // The same view at quality 20 (a snapshot size cap, an NVR transcoding): a twentieth of
    // the measured sharpness, with the same lens.
    cam.served.next = (frame) => view(frame, 20);
    for (let i = 0; i < 6; i++) expect(await cam.codes(), `poll ${i}`).toEqual([]);
    const after = cam.memory.pictures.get('V1')?.baseline;
    expect(after?.quality).not.toBe(sharp?.quality);
    expect(after?.usual).toBeLessThan(0.3 * (sharp?.usual ?? 0));
    expect(after?.learned).toBe(6);
  });

  it('calls a snapshot cut short failed and learns nothing from it', async () => {
    const cam = camera();
    for (let i = 0; i < 4; i++) expect(await cam.codes()).toEqual([]);
    const before = { ...cam.memory.pictures.get('V1')?.baseline };
    cam.served.next = (frame) => {
      const whole = view(frame, 95);
      return Buffer.concat([whole.subarray(0, whole.length >> 1), Buffer.from([0xff, 0xd9])]);
    };
    const result = await cam.poll();
    expect(result.degraded).toEqual([
      {
        code: 'snapshot-failed',
        channel: 'V1',
        message: expect.stringMatching(
          /^the snapshot of Gate is cut short \(.*MCUs.*\), so nothing was measured/,
        ),
      },
    ]);
    expect(cam.memory.pictures.get('V1')?.baseline).toMatchObject({
      usual: before.usual,
      learned: before.learned,
    });
  });
});

describe("an NVR's channels pictured in turn (checks.channelsPerPoll)", () => {
  /** A recorder of 16 channels; `black` holds the channels whose picture is black now. */
  function recorder() {
    const black = new Set<number>();
    const fetched: number[] = [];
    let frame = 0;
    const client = {
      snapshotUri: async (profile: string) => `http://192.0.2.20/snapshot/${profile}.jpg`,
      snapshot: async (uri: string) => {
        const n = Number(/P(\d+)\.jpg$/.exec(uri)![1]);
        fetched.push(n);
        if (black.has(n)) return encodeJpeg({ width: W, height: H, data: flat(0) }, 90);
        // A new frame each time (a live sensor's noise), so none is frozen.
        frame += 1;
        return view(frame, 95);
      },
    } as Partial<OnvifClient> as OnvifClient;
    const memory = sixteenChannels(W, H);
    const poll = async () => {
      const { result, looked } = await pollOnce(picture, client, memory, fetched);
      return { result, fetched: looked };
    };
    return { black, poll };
  }
  const flat = (level: number) => {
    const data = new Uint8Array(W * H * 4).fill(level);
    for (let p = 3; p < data.length; p += 4) data[p] = 255;
    return data;
  };

  it('pictures every channel at first, then 4 a poll in turn, each once in 4 polls', async () => {
    expect(checkDefaults.channelsPerPoll).toBe(4);
    const nvr = recorder();
    const first = await nvr.poll();
    expect(first.fetched).toHaveLength(16);
    expect(first.result.values?.picturesOk).toBe(16);
    const seen: number[][] = [];
    for (let i = 0; i < 4; i++) seen.push((await nvr.poll()).fetched);
    for (const turn of seen) expect(turn).toHaveLength(4);
    expect(seen.flat().sort((a, b) => a - b)).toEqual(Array.from({ length: 16 }, (_, i) => i + 1));
  });

  it('pictures a channel whose picture went black every poll, until it is good again', async () => {
    const nvr = recorder();
    await nvr.poll();
    nvr.black.add(9);
    let turns = 0;
    let reasons: string[] = [];
    // Polls until channel 9's turn: from then on its reason stands in every poll.
    for (; turns < 4; turns++) {
      const { result, fetched } = await nvr.poll();
      reasons = (result.degraded ?? []).map((r) => `${r.code} ${r.channel}`);
      if (fetched.includes(9)) break;
      expect(reasons).toEqual([]);
    }
    expect(reasons).toEqual(['picture-black V9']);
    for (let i = 0; i < 3; i++) {
      const { result, fetched } = await nvr.poll();
      expect(fetched).toContain(9);
      expect(fetched).toHaveLength(5);
      expect((result.degraded ?? []).map((r) => `${r.code} ${r.channel}`)).toEqual([
        'picture-black V9',
      ]);
      expect(result.values?.picturesOk).toBe(15);
    }
    nvr.black.delete(9);
    const { result, fetched } = await nvr.poll();
    expect(fetched).toContain(9);
    expect(result.degraded).toEqual([]);
    expect(result.values?.picturesOk).toBe(16);
  });

  it("gives the first channel's readings only from a poll that pictured it", async () => {
    const nvr = recorder();
    expect((await nvr.poll()).result.values?.pictureLuma).toBeTypeOf('number');
    const lumas: unknown[] = [];
    for (let i = 0; i < 4; i++) lumas.push((await nvr.poll()).result.values?.pictureLuma);
    expect(lumas.filter((l) => l !== undefined)).toHaveLength(1);
  });
});
