import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  clockOffsetMs,
  deviceUtcFromResponse,
  parseDateTimeText,
  parseOnvifDateTime,
} from '../../../agent/onvif/date-time.js';
import { OnvifDeviceClient } from '../../../agent/onvif/adapter.js';
import { bodyElement, parseXml } from '../../../agent/onvif/soap.js';
import { Secret } from '../../../agent/secret.js';
import { fixture, SoapServer } from './soap-server.js';

const DAY_MS = 86_400_000;

function answer(date: [number, number, number], time: [number, number, number]): string {
  const [year, month, day] = date;
  const [hour, minute, second] = time;
  return fixture('GetSystemDateAndTime')
    .replace('<tt:Hour>19</tt:Hour>', `<tt:Hour>${hour}</tt:Hour>`)
    .replace('<tt:Minute>14</tt:Minute>', `<tt:Minute>${minute}</tt:Minute>`)
    .replace('<tt:Second>37</tt:Second>', `<tt:Second>${second}</tt:Second>`)
    .replace('<tt:Year>2014</tt:Year>', `<tt:Year>${year}</tt:Year>`)
    .replace('<tt:Month>12</tt:Month>', `<tt:Month>${month}</tt:Month>`)
    .replace('<tt:Day>24</tt:Day>', `<tt:Day>${day}</tt:Day>`);
}

function utcOf(xml: string): Date | null {
  return deviceUtcFromResponse(bodyElement(parseXml(xml), 'GetSystemDateAndTimeResponse'));
}

describe('GetSystemDateAndTime parsing', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('reads the UTC clock of the captured answer', () => {
    expect(utcOf(fixture('GetSystemDateAndTime'))?.toISOString()).toBe('2014-12-24T19:14:37.000Z');
  });

  it('does not roll the month over at a month end (node-onvif gives 15 March here)', () => {
    // The gateway is on 31 January; the device says 15 February.
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2026-01-31T12:00:00Z'));
    const deviceUtc = utcOf(answer([2026, 2, 15], [12, 0, 0]));
    expect(deviceUtc?.toISOString()).toBe('2026-02-15T12:00:00.000Z');
    const now = Date.now();
    expect(clockOffsetMs(deviceUtc!, now, now)).toBe(15 * DAY_MS);
    // Whole seconds are truncated by the device: the middle of that second is the estimate.
    expect(clockOffsetMs(deviceUtc!, now, now, true)).toBe(15 * DAY_MS + 500);
  });

  it('refuses days a month does not have instead of carrying them over', () => {
    expect(utcOf(answer([2026, 2, 29], [0, 0, 0]))).toBeNull();
    expect(utcOf(answer([2026, 4, 31], [0, 0, 0]))).toBeNull();
    expect(utcOf(answer([2028, 2, 29], [0, 0, 0]))?.toISOString()).toBe('2028-02-29T00:00:00.000Z');
    expect(utcOf(answer([2026, 13, 1], [0, 0, 0]))).toBeNull();
    expect(utcOf(answer([2026, 1, 1], [24, 0, 0]))).toBeNull();
  });

  it('reads leaves that carry an xmlns attribute', () => {
    const xml = fixture('GetSystemDateAndTime').replace(
      '<tt:Year>2014</tt:Year>',
      '<tt:Year xmlns:tt="http://www.onvif.org/ver10/schema">2014</tt:Year>',
    );
    expect(utcOf(xml)?.toISOString()).toBe('2014-12-24T19:14:37.000Z');
  });

  it('gives no clock when UTCDateTime is missing rather than guessing from local time', () => {
    const xml = fixture('GetSystemDateAndTime').replace(
      /<tt:UTCDateTime>[\s\S]*<\/tt:UTCDateTime>/,
      '',
    );
    expect(utcOf(xml)).toBeNull();
  });

  it('accepts a UTCDateTime written as one date-time string', () => {
    const xml = fixture('GetSystemDateAndTime').replace(
      /<tt:UTCDateTime>[\s\S]*<\/tt:UTCDateTime>/,
      '<tt:UTCDateTime>2026-01-31T23:59:59Z</tt:UTCDateTime>',
    );
    expect(utcOf(xml)?.toISOString()).toBe('2026-01-31T23:59:59.000Z');
  });

  it('computes the offset at the midpoint of the request', () => {
    const device = new Date('2026-03-01T00:00:10Z');
    const sent = Date.parse('2026-03-01T00:00:00Z');
    expect(clockOffsetMs(device, sent, sent + 2000)).toBe(9000);
  });
});

describe('date-time strings as devices write them', () => {
  it.each([
    ['2026-01-31T23:59:59Z', '2026-01-31T23:59:59.000Z'],
    ['2026-01-31T23:59:59z', '2026-01-31T23:59:59.000Z'],
    ['2026-01-31T23:59:59', '2026-01-31T23:59:59.000Z'],
    ['2026-01-31 23:59:59', '2026-01-31T23:59:59.000Z'],
    ['20260131T235959Z', '2026-01-31T23:59:59.000Z'],
    ['2026-01-31T23:59:59.25Z', '2026-01-31T23:59:59.250Z'],
    ['2026-02-01T00:59:59+01:00', '2026-01-31T23:59:59.000Z'],
    ['2026-01-31T18:59:59-0500', '2026-01-31T23:59:59.000Z'],
    ['1970-01-01T00:00:00Z', '1970-01-01T00:00:00.000Z'],
  ])('%s', (text, iso) => {
    expect(parseDateTimeText(text)?.toISOString()).toBe(iso);
  });

  it.each(['', 'yesterday', '2026-02-30T00:00:00Z', '2026-01-31T25:00:00Z', '2026-1-3T00:00:00Z'])(
    'refuses %j',
    (text) => {
      expect(parseDateTimeText(text)).toBeNull();
    },
  );

  it('reads a structured date-time from plain parser output', () => {
    const node = {
      Date: { Year: '2026', Month: '1', Day: '31' },
      Time: { Hour: '23', Minute: '59', Second: '59' },
    };
    expect(parseOnvifDateTime(node)?.toISOString()).toBe('2026-01-31T23:59:59.000Z');
    expect(parseOnvifDateTime({ Date: node.Date })).toBeNull();
  });
});

describe('the clock offset through the adapter', () => {
  const server = new SoapServer();

  afterEach(async () => {
    vi.useRealTimers();
    await server.stop().catch(() => undefined);
  });

  it('reports a device 15 days ahead at a month end as 15 days, and signs later requests on its clock', async () => {
    await server.start();
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2026-01-31T12:00:00Z'));
    server.answers.set('GetSystemDateAndTime', { body: answer([2026, 2, 15], [12, 0, 0]) });
    const client = new OnvifDeviceClient(
      { xaddr: server.xaddr, username: 'admin', password: new Secret('pw') },
      { timeoutMs: 2000 },
    );
    const clock = await client.clock();
    expect(Math.abs(clock.offsetMs! - 15 * DAY_MS)).toBeLessThan(1000);
    expect(server.seen[0]).toMatchObject({
      operation: 'GetSystemDateAndTime',
      authenticated: false,
    });

    // ONVIF Core 5.12 Security: the UsernameToken's Created should follow the device clock.
    await client.deviceInformation();
    const created = server.seen.find((r) => r.operation === 'GetDeviceInformation')?.created;
    expect(created?.slice(0, 10)).toBe('2026-02-15');
  });
});
