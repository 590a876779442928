/**
 * The retention check (agent/checks/retention.ts) with a fake client and a clock the test
 * moves: days kept from the oldest plausible start per recording, the 1970 quirk ignored,
 * the device's clock corrected, measured hourly; only the recordings seen overwriting
 * count (a camera added later, a recorder still filling: no retention yet), also on the
 * simulator's own recorder model; and the parsing of a GetRecordingSearchResults
 * answer in the documented format (ONVIF Recording Search, tt:RecordingInformation:
 * hand-written from the schema, not a recorded answer) by our own SOAP client.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  keptDays,
  retention,
  RETENTION_EVERY_MS,
  RETENTION_RETRY_MS,
  leastKeptDays,
} from '../../../agent/checks/retention.js';
import { DeviceMemory, type CheckContext } from '../../../agent/checks/types.js';
import { checkDefaults } from '../../../agent/config.js';
import { OnvifDeviceClient } from '../../../agent/onvif/adapter.js';
import { OnvifError, type OnvifClient, type RecordingInfo } from '../../../agent/onvif/types.js';
import { Secret } from '../../../agent/secret.js';
import { Recorder } from '../../../sim/recording.js';
import { SoapServer } from './soap-server.js';

const DAY = 86_400_000;
const now = Date.parse('2026-12-06T12:00:00Z');

const rec = (token: string, ...starts: string[]): RecordingInfo => ({
  token,
  source: `Recorder ${token}`,
  latest: new Date(now),
  status: 'Recording',
  starts: starts.map((at) => new Date(at)),
});

describe('days kept', () => {
  it('is the age of the oldest start, the least of the recordings, to a tenth of a day', () => {
    const found = [
      rec('REC_CH01', '2026-11-06T12:00:00Z'),
      rec('REC_CH02', '2026-11-24T00:00:00Z', '2026-11-24T06:00:00Z'),
    ];
    expect(keptDays(found[0]!, now)).toBe(30);
    expect(keptDays(found[1]!, now)).toBe(12.5);
    expect(leastKeptDays(found, now)).toBe(12.5);
  });

  it('ignores the 1970 quirk and starts in the future, and says nothing without a start', () => {
    // EarliestRecording 1970 (an unknown start), the track's DataFrom right: the track counts.
    expect(keptDays(rec('A', '1970-01-01T00:00:00Z', '2026-11-26T12:00:00Z'), now)).toBe(10);
    // Only 1970, only before 2000, or only after now: no start, not 20,000 days.
    expect(keptDays(rec('B', '1970-01-01T00:00:00Z'), now)).toBeNull();
    expect(keptDays(rec('C', '1999-12-31T23:59:59Z'), now)).toBeNull();
    expect(keptDays(rec('D', '2026-12-07T00:00:00Z'), now)).toBeNull();
    // No data (no EarliestRecording, no track), or a recording being deleted.
    expect(keptDays(rec('E'), now)).toBeNull();
    expect(keptDays({ ...rec('F', '2026-11-06T12:00:00Z'), status: 'Removing' }, now)).toBeNull();
    expect(keptDays({ token: 'G', source: '', latest: null, status: 'Unknown' }, now)).toBeNull();
    // A recorder that says 1970 everywhere has no retention to report.
    expect(leastKeptDays([rec('B', '1970-01-01T00:00:00Z'), rec('E')], now)).toBeNull();
    // The others still count around a recording that gives none.
    expect(
      leastKeptDays([rec('B', '1970-01-01T00:00:00Z'), rec('H', '2026-11-16T12:00:00Z')], now),
    ).toBe(20);
  });
});

describe('the retention check', () => {
  const nvr = {
    id: 'nvr-01',
    name: 'Recorder',
    kind: 'nvr' as const,
    xaddr: 'http://192.0.2.9/onvif/device_service',
  };
  let clock = now;
  let searches = 0;
  let answer: () => Promise<RecordingInfo[] | null>;
  const client = {
    recordings: () => {
      searches++;
      return answer();
    },
  } as unknown as OnvifClient;
  let memory = new DeviceMemory();
  const context = (): CheckContext => ({
    device: nvr,
    client,
    signal: new AbortController().signal,
    settings: checkDefaults,
    memory,
    now: () => clock,
    intervalS: 15,
  });
  /** A recording whose oldest data is `days` old at the clock: a full one, overwriting. */
  const keeping = (token: string, days: number) =>
    rec(token, new Date(clock - days * DAY).toISOString());
  /** A recording whose history began at `from` and is all still there: filling. */
  const since = (token: string, from: number) => rec(token, new Date(from).toISOString());
  const measure = async () => (await retention.run(context())).values?.retentionDays;

  beforeEach(() => {
    clock = now;
    searches = 0;
    memory = new DeviceMemory();
    answer = async () => [keeping('REC_CH01', 30), keeping('REC_CH02', 14)];
  });

  it('applies to NVRs only', () => {
    expect(retention.appliesTo).toEqual(['nvr']);
  });

  it('needs a second look to know a recorder overwrites: taken at the next poll, then hourly', async () => {
    // Nothing to compare with yet (a new agent, or one just restarted): no reading.
    expect(await retention.run(context())).toEqual({});
    clock = now + 15_000;
    // 15 s later the oldest data of both is 15 s younger: overwritten, both count.
    expect(await retention.run(context())).toEqual({ values: { retentionDays: 14 } });
    expect(memory.retentionMeasuredAt).toBe(clock);
    expect(searches).toBe(2);
    for (const later of [15_000, 30 * 60_000, RETENTION_EVERY_MS - 1]) {
      clock = now + 15_000 + later;
      expect(await retention.run(context())).toEqual({});
    }
    expect(searches).toBe(2);
    clock = now + 15_000 + RETENTION_EVERY_MS;
    expect(await measure()).toBe(14);
    expect(searches).toBe(3);
    // A recording seen overwriting stays so when its start did not move this hour (a
    // recorder that overwrites a file of an hour at once): a kept figure, growing.
    const frozen = clock;
    answer = async () => [keeping('REC_CH01', 30), since('REC_CH02', frozen - 14 * DAY)];
    clock = frozen + 12 * RETENTION_EVERY_MS;
    expect(await measure()).toBe(14.5);
    // A gateway clock set back measures again rather than waiting for the old hour.
    clock = now;
    await retention.run(context());
    expect(searches).toBe(5);
  });

  it('leaves out a camera added to a full recorder: its young recording is still filling', async () => {
    await retention.run(context());
    clock += 15_000;
    expect(await measure()).toBe(14);
    // A camera added an hour ago on channel 3: its recording's age (0.04 days) is no
    // retention, it has overwritten nothing.
    const added = clock - 3_600_000;
    answer = async () => [
      keeping('REC_CH01', 30),
      keeping('REC_CH02', 14),
      since('REC_CH03', added),
    ];
    clock += RETENTION_EVERY_MS;
    expect(await measure()).toBe(14);
    // First seen, so looked at again at the next poll: still not moving, still left out.
    clock += 15_000;
    expect(await measure()).toBe(14);
    for (let hour = 0; hour < 48; hour++) {
      clock += RETENTION_EVERY_MS;
      expect(await measure()).toBe(14);
    }
    expect(memory.retentionStarts.get('REC_CH03')).toMatchObject({
      from: added,
      overwriting: false,
    });
  });

  it('sends nothing for a recorder that still fills, until it overwrites', async () => {
    // Installed five days ago: every channel holds all it ever recorded.
    const installed = now - 5 * DAY;
    answer = async () => [since('REC_CH01', installed), since('REC_CH02', installed)];
    for (let hour = 0; hour < 24; hour++) {
      expect(await retention.run(context())).toEqual({});
      clock += RETENTION_EVERY_MS;
    }
    // Six days on, its disks are full: the oldest data goes, one channel first.
    answer = async () => [keeping('REC_CH01', 5.8), since('REC_CH02', installed)];
    expect(await measure()).toBe(5.8);
    clock += RETENTION_EVERY_MS;
    answer = async () => [keeping('REC_CH01', 5.8), keeping('REC_CH02', 5.7)];
    expect(await measure()).toBe(5.7);
  });

  it('learns anew a recording whose start moves back, and forgets one no longer listed', async () => {
    await retention.run(context());
    clock += 15_000;
    expect(await measure()).toBe(14);
    // Channel 2's recording now starts earlier than before (recreated, or a disk with old
    // footage put back): not known to overwrite any more.
    const older = now - 20 * DAY;
    answer = async () => [keeping('REC_CH01', 30), since('REC_CH02', older)];
    clock += RETENTION_EVERY_MS;
    expect(await measure()).toBe(30);
    answer = async () => [keeping('REC_CH01', 30)];
    clock += RETENTION_EVERY_MS;
    expect(await measure()).toBe(30);
    expect([...memory.retentionStarts.keys()]).toEqual(['REC_CH01']);
  });

  it('takes footage removed at once (a disk formatted) for a recorder filling again, not 0 days', async () => {
    await retention.run(context());
    clock += 15_000;
    expect(await measure()).toBe(14);
    // Both disks replaced: an hour later every recording starts minutes ago, 14 and 30 days
    // forward in an hour. That is no overwrite: nothing to report until they move again.
    const formatted = clock + RETENTION_EVERY_MS - 600_000;
    answer = async () => [since('REC_CH01', formatted), since('REC_CH02', formatted)];
    clock += RETENTION_EVERY_MS;
    expect(await retention.run(context())).toEqual({});
    clock += RETENTION_EVERY_MS;
    expect(await retention.run(context())).toEqual({});
    // Full again ten days on: an overwrite of a whole record file, even one of a channel
    // recorded on motion that spans three days, still counts.
    clock += 10 * DAY;
    expect(await retention.run(context())).toEqual({});
    answer = async () => [since('REC_CH01', formatted + 3 * DAY), since('REC_CH02', formatted)];
    clock += RETENTION_EVERY_MS;
    expect(await measure()).toBeCloseTo((clock - formatted - 3 * DAY) / DAY, 1);
  });

  it('looks early once, not every poll, at a recorder whose tokens change from search to search', async () => {
    let search = 0;
    answer = async () => [keeping(`REC_${++search}`, 30)];
    for (let poll = 0; poll < 8; poll++) {
      expect(await retention.run(context())).toEqual({});
      clock += 15 * 60_000;
    }
    // The first look, the early second one, then hourly: at 15 min, 75 min.
    expect(searches).toBe(3);
  });

  it("counts the days on the device's clock: a recorder two years behind still keeps 14 days", async () => {
    const behind = -2 * 365 * DAY;
    memory.offsetMs = behind;
    answer = async () => [rec('REC_CH01', new Date(clock + behind - 14 * DAY).toISOString())];
    await retention.run(context());
    clock += 15_000;
    expect(await retention.run(context())).toEqual({ values: { retentionDays: 14 } });
  });

  it('sends no retention for a recorder that says 1970, nor for one without a search', async () => {
    answer = async () => [rec('REC_CH01', '1970-01-01T00:00:00Z'), rec('REC_CH02')];
    expect(await retention.run(context())).toEqual({});
    // No start to compare later: the next measurement is in an hour, not at the next poll.
    expect(memory.retentionMeasuredAt).toBe(now);
    memory.retentionMeasuredAt = null;
    answer = async () => null;
    expect(await retention.run(context())).toEqual({});
  });

  it('tries a failed search again after a few minutes, not every poll, and reports nothing', async () => {
    answer = () => Promise.reject(new OnvifError('timeout', 'no answer within 5000 ms'));
    expect(await retention.run(context())).toEqual({});
    clock = now + RETENTION_RETRY_MS - 1;
    await retention.run(context());
    expect(searches).toBe(1);
    clock = now + RETENTION_RETRY_MS;
    answer = async () => [keeping('REC_CH01', 30)];
    expect(await retention.run(context())).toEqual({});
    clock += 15_000;
    expect(await retention.run(context())).toEqual({ values: { retentionDays: 30 } });
    expect(searches).toBe(3);
  });

  it('leaves refused credentials to the poll (one refusal, not a reason of its own)', async () => {
    answer = () => Promise.reject(new OnvifError('auth-failed', 'NotAuthorized'));
    await expect(retention.run(context())).rejects.toMatchObject({ name: 'CredentialsRefused' });
  });
});

describe("the simulator's recorder, as the check sees it", () => {
  it('a camera added later and a new recorder fill; a full recorder overwrites', async () => {
    let clock = now;
    const full = new Recorder(3, now);
    const young = new Recorder(2, now, 5);
    const searched = (recorder: Recorder, days: number | null) => async () =>
      recorder.all().map((r): RecordingInfo => ({
        token: r.recordingToken,
        source: r.sourceToken,
        latest: new Date(clock),
        status: 'Recording',
        starts: [new Date(recorder.earliest(r, clock, days))],
      }));
    const run = async (recorder: Recorder, memory: DeviceMemory, days: number | null = null) =>
      (
        await retention.run({
          device: { id: 'nvr', name: 'nvr', kind: 'nvr', xaddr: 'http://192.0.2.9/' },
          client: { recordings: searched(recorder, days) } as unknown as OnvifClient,
          signal: new AbortController().signal,
          settings: checkDefaults,
          memory,
          now: () => clock,
          intervalS: 60,
        })
      ).values?.retentionDays;
    const fullMemory = new DeviceMemory();
    const youngMemory = new DeviceMemory();
    const shortMemory = new DeviceMemory();
    const short = new Recorder(2, now);
    full.startChannel(3, now - 3_600_000);
    const readings: (number | undefined)[][] = [];
    for (const step of [0, 60_000, RETENTION_EVERY_MS, RETENTION_EVERY_MS]) {
      clock += step;
      readings.push([
        await run(full, fullMemory),
        await run(young, youngMemory),
        await run(short, shortMemory, 12),
      ]);
    }
    expect(readings).toEqual([
      [undefined, undefined, undefined],
      [30, undefined, 12],
      [30, undefined, 12],
      [30, undefined, 12],
    ]);
  });
});

describe('our recording search reads where recordings start', () => {
  let server: SoapServer;
  const ns =
    'xmlns:env="http://www.w3.org/2003/05/soap-envelope" xmlns:tse="http://www.onvif.org/ver10/search/wsdl" ' +
    'xmlns:tds="http://www.onvif.org/ver10/device/wsdl" xmlns:tt="http://www.onvif.org/ver10/schema"';
  const envelope = (body: string) =>
    `<?xml version="1.0" encoding="UTF-8"?><env:Envelope ${ns}><env:Body>${body}</env:Body></env:Envelope>`;
  const info = (token: string, earliest: string | null, tracks: string[]) =>
    '<tt:RecordingInformation>' +
    `<tt:RecordingToken>${token}</tt:RecordingToken>` +
    '<tt:Source><tt:SourceId>vs1</tt:SourceId><tt:Name>Gate</tt:Name><tt:Location/><tt:Description/><tt:Address/></tt:Source>' +
    (earliest === null ? '' : `<tt:EarliestRecording>${earliest}</tt:EarliestRecording>`) +
    '<tt:LatestRecording>2026-12-06T11:59:58Z</tt:LatestRecording><tt:Content/>' +
    tracks
      .map(
        (from, i) =>
          `<tt:Track><tt:TrackToken>VIDEO00${i + 1}</tt:TrackToken><tt:TrackType>Video</tt:TrackType>` +
          `<tt:Description/><tt:DataFrom>${from}</tt:DataFrom><tt:DataTo>2026-12-06T11:59:58Z</tt:DataTo></tt:Track>`,
      )
      .join('') +
    '<tt:RecordingStatus>Recording</tt:RecordingStatus></tt:RecordingInformation>';

  beforeEach(async () => {
    server = new SoapServer();
    await server.start();
    const service = (namespace: string) =>
      `<tds:Service><tds:Namespace>${namespace}</tds:Namespace><tds:XAddr>${server.xaddr}</tds:XAddr>` +
      '<tds:Version><tt:Major>2</tt:Major><tt:Minor>40</tt:Minor></tds:Version></tds:Service>';
    server.answers.set('GetServices', {
      body: envelope(
        `<tds:GetServicesResponse>${service('http://www.onvif.org/ver10/device/wsdl')}` +
          `${service('http://www.onvif.org/ver10/search/wsdl')}</tds:GetServicesResponse>`,
      ),
    });
    server.answers.set('FindRecordings', {
      body: envelope(
        '<tse:FindRecordingsResponse><tse:SearchToken>s1</tse:SearchToken></tse:FindRecordingsResponse>',
      ),
    });
    server.answers.set('GetRecordingSearchResults', {
      body: envelope(
        '<tse:GetRecordingSearchResultsResponse><tse:ResultList><tt:SearchState>Completed</tt:SearchState>' +
          // The quirk: EarliestRecording 1970, the tracks say when their data starts.
          info('REC_CH01', '1970-01-01T00:00:00Z', [
            '2026-11-06T12:00:00Z',
            '2026-11-10T00:00:00Z',
          ]) +
          // Hyphenated time (a budget NVR's), no tracks: EarliestRecording alone.
          info('REC_CH02', '2026-11-22-12:00:00Z', []) +
          // No data at all: no EarliestRecording, no track (the schema says a track without
          // data is not provided).
          info('REC_CH03', null, []) +
          '</tse:ResultList></tse:GetRecordingSearchResultsResponse>',
      ),
    });
    server.answers.set('EndSearch', {
      body: envelope(
        '<tse:EndSearchResponse><tse:Endpoint>2026-12-06T12:00:00Z</tse:Endpoint></tse:EndSearchResponse>',
      ),
    });
  });

  afterEach(async () => {
    await server.stop();
  });

  it('keeps EarliestRecording and every track DataFrom, and the check takes the plausible oldest', async () => {
    const client = new OnvifDeviceClient(
      { xaddr: server.xaddr, username: 'vigil', password: new Secret('pw') },
      { timeoutMs: 2000 },
    );
    const found = (await client.recordings())!;
    expect(found.map((r) => [r.token, (r.starts ?? []).map((s) => s.toISOString())])).toEqual([
      [
        'REC_CH01',
        ['1970-01-01T00:00:00.000Z', '2026-11-06T12:00:00.000Z', '2026-11-10T00:00:00.000Z'],
      ],
      ['REC_CH02', ['2026-11-22T12:00:00.000Z']],
      ['REC_CH03', []],
    ]);
    expect(found.map((r) => keptDays(r, now))).toEqual([30, 14, null]);
    expect(leastKeptDays(found, now)).toBe(14);
  });
});
