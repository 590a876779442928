import { describe, expect, it } from 'vitest';
import {
  EventHub,
  MAX_PULL_POINTS,
  parseDuration,
  TooManyPullPointsError,
} from '../../../sim/events.js';
import { sessionDescription } from '../../../sim/rtsp.js';

const message = (topic: string) => ({
  topic,
  utcTime: 0,
  operation: 'Changed' as const,
  source: [],
  data: [],
});

describe('xs:duration', () => {
  it('reads the durations ONVIF clients send', () => {
    expect(parseDuration('PT10S')).toBe(10_000);
    expect(parseDuration('PT1M30S')).toBe(90_000);
    expect(parseDuration('PT0.5S')).toBe(500);
    expect(parseDuration('P1DT1H')).toBe(25 * 3_600_000);
    expect(parseDuration('PT')).toBeNull();
    expect(parseDuration('10')).toBeNull();
  });
});

describe('event hub', () => {
  it('a pull point gets its initial messages, then what is published', async () => {
    const hub = new EventHub();
    const point = hub.create(60_000, [message('a')]);
    hub.publish(message('b'));
    expect((await hub.pull(point, 10, 0)).map((m) => m.topic)).toEqual(['a', 'b']);
  });

  it('a waiting pull returns as soon as a message is published', async () => {
    const hub = new EventHub();
    const point = hub.create(60_000, []);
    const started = Date.now();
    const waiting = hub.pull(point, 10, 5000);
    setTimeout(() => hub.publish(message('late')), 50);
    expect((await waiting).map((m) => m.topic)).toEqual(['late']);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('MessageLimit caps one answer; the rest waits for the next pull', async () => {
    const hub = new EventHub();
    const point = hub.create(60_000, [message('1'), message('2'), message('3')]);
    expect(await hub.pull(point, 2, 0)).toHaveLength(2);
    expect(await hub.pull(point, 2, 0)).toHaveLength(1);
  });

  it('expired pull points are gone; there is a cap on how many exist', () => {
    const hub = new EventHub();
    const point = hub.create(1000, [], 0);
    expect(hub.get(point.id, 500)).toBe(point);
    expect(hub.get(point.id, 1500)).toBeUndefined();
    for (let i = 0; i < MAX_PULL_POINTS; i++) hub.create(60_000, []);
    expect(() => hub.create(60_000, [])).toThrow(TooManyPullPointsError);
    hub.clear();
    expect(hub.size).toBe(0);
  });
});

describe('SDP', () => {
  it('is an RFC 4566 description of one H.264 video stream', () => {
    const sdp = sessionDescription(
      {
        channel: 1,
        width: 1920,
        height: 1080,
        frameRate: 25,
        bitrateKbps: 4096,
        h264Profile: 'High',
        title: 'Lobby main',
      },
      '127.0.0.1',
    );
    expect(sdp.endsWith('\r\n')).toBe(true);
    const lines = sdp.trimEnd().split('\r\n');
    expect(lines[0]).toBe('v=0');
    expect(lines[1]).toMatch(/^o=- \d+ 1 IN IP4 127\.0\.0\.1$/);
    expect(lines).toContain('a=fmtp:96 packetization-mode=1;profile-level-id=640029');
    expect(lines.at(-1)).toBe('a=control:trackID=1');
  });
});
