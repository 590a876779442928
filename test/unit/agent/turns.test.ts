/**
 * An NVR's channels described in turn (agent/checks/turns.ts through the stream check): all
 * at the first poll, then checks.channelsPerPoll a poll, each once in 16 / 4 polls; a
 * channel found down is described every poll until it is up, and counted down meanwhile.
 */
import { describe, expect, it } from 'vitest';
import { stream } from '../../../agent/checks/stream.js';
import type { OnvifClient } from '../../../agent/onvif/types.js';
import { pollOnce, sixteenChannels } from './recorder-fixture.js';

function recorder() {
  const down = new Set<number>();
  const described: number[] = [];
  const client = {
    streamUri: async (profile: string) => `rtsp://192.0.2.20:554/Streaming/${profile}`,
    describe: async (uri: string) => {
      const n = Number(/P(\d+)$/.exec(uri)![1]);
      described.push(n);
      return down.has(n) ? 404 : 200;
    },
  } as Partial<OnvifClient> as OnvifClient;
  const memory = sixteenChannels(704, 576);
  const poll = async () => {
    const { result, looked } = await pollOnce(stream, client, memory, described);
    return { result, described: looked };
  };
  return { down, poll };
}

describe("an NVR's streams described in turn (checks.channelsPerPoll)", () => {
  it('describes every channel at first, then 4 a poll, each once in 4 polls', async () => {
    const nvr = recorder();
    const first = await nvr.poll();
    expect(first.described).toHaveLength(16);
    expect(first.result.values?.streamsUp).toBe(16);
    const turns: number[][] = [];
    for (let i = 0; i < 4; i++) {
      const { result, described } = await nvr.poll();
      expect(result.values?.streamsUp).toBe(16);
      turns.push(described);
    }
    for (const turn of turns) expect(turn).toHaveLength(4);
    expect(turns.flat().sort((a, b) => a - b)).toEqual(Array.from({ length: 16 }, (_, i) => i + 1));
  });

  it('describes a channel found down every poll, counted down, until it is up again', async () => {
    const nvr = recorder();
    await nvr.poll();
    nvr.down.add(7);
    let found = false;
    for (let i = 0; i < 4 && !found; i++) {
      const { result, described } = await nvr.poll();
      found = described.includes(7);
      if (!found) expect(result.degraded).toEqual([]);
    }
    expect(found).toBe(true);
    for (let i = 0; i < 2; i++) {
      const { result, described } = await nvr.poll();
      expect(described).toContain(7);
      expect(result.values?.streamsUp).toBe(15);
      expect(result.degraded?.map((r) => `${r.code} ${r.channel}`)).toEqual(['stream-down V7']);
    }
    nvr.down.delete(7);
    const { result, described } = await nvr.poll();
    expect(described).toContain(7);
    expect(result.values?.streamsUp).toBe(16);
    expect(result.degraded).toEqual([]);
  });
});
