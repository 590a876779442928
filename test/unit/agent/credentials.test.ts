/**
 * A device that answers but refuses the agent's credentials (agent/poll.ts): degraded with
 * auth-failed, never down for it; the check that needs no credentials still runs every
 * poll, so the device dying afterwards is still noticed; the refused credentials are tried
 * twice, then once per checks.credentialsRetryS (account lockouts); an account without
 * live-view rights leaves only the stream and picture checks waiting.
 */
import { describe, expect, it } from 'vitest';
import { checks } from '../../../agent/checks/index.js';
import { DeviceMemory, type CheckContext } from '../../../agent/checks/types.js';
import { checkDefaults } from '../../../agent/config.js';
import { DeviceState } from '../../../agent/device-state.js';
import { OnvifError, type OnvifClient } from '../../../agent/onvif/types.js';
import { runChecks, type PollResult } from '../../../agent/poll.js';

const INTERVAL_S = 15;

/** A camera whose password was changed: it answers its clock, refuses everything else. */
class RefusingCamera {
  password = 'rotated';
  dead = false;
  /** Requests that carried credentials, by operation. */
  readonly credentialed: string[] = [];

  client(): OnvifClient {
    /** A credentialed request: refused while the password is rotated, else `answer`. */
    const ask =
      <T>(operation: string, answer: T) =>
      async (): Promise<T> => {
        if (this.dead) throw new OnvifError('unreachable', 'connect ECONNREFUSED 192.0.2.1:80');
        this.credentialed.push(operation);
        if (this.password === 'rotated') {
          throw new OnvifError('auth-failed', 'the device refused the credentials (HTTP 401)');
        }
        return answer;
      };
    return {
      clock: async () => {
        if (this.dead) throw new OnvifError('unreachable', 'connect ECONNREFUSED 192.0.2.1:80');
        return { deviceUtc: new Date(), offsetMs: 10, responseMs: 8 };
      },
      deviceInformation: ask('GetDeviceInformation', {
        manufacturer: 'M',
        model: 'X',
        firmwareVersion: '1',
        serialNumber: 'S',
        hardwareId: 'H',
      }),
      profiles: ask('GetProfiles', { count: 0 }),
      channels: ask('GetProfiles', []),
      streamUri: ask('GetStreamUri', ''),
      snapshotUri: ask('GetSnapshotUri', ''),
      describe: ask('DESCRIBE', 200),
      snapshot: ask('snapshot GET', Buffer.alloc(0)),
      recordings: ask('FindRecordings', null),
      recordingJobs: ask('GetRecordingJobs', null),
      storage: ask('GetStorageConfigurations', []),
      createPullPoint: ask('CreatePullPointSubscription', 'http://192.0.2.1/pull/1'),
      pullMessages: ask('PullMessages', []),
      renew: ask('Renew', undefined),
      unsubscribe: ask('Unsubscribe', undefined),
    };
  }
}

function contextOf(client: OnvifClient, memory: DeviceMemory, now: () => number): CheckContext {
  return {
    device: { id: 'cam-01', name: 'Lobby', kind: 'camera', xaddr: 'http://192.0.2.1/onvif' },
    client,
    signal: new AbortController().signal,
    settings: { ...checkDefaults },
    memory,
    now,
    intervalS: INTERVAL_S,
  };
}

/** Polls one device on a clock the test moves, every INTERVAL_S by default. */
function poller(camera: RefusingCamera) {
  const memory = new DeviceMemory();
  const client = camera.client();
  let now = Date.parse('2026-12-06T08:00:00Z');
  return {
    memory,
    poll: (): Promise<PollResult> =>
      runChecks(
        checks,
        contextOf(client, memory, () => now),
      ),
    advance: (s: number) => (now += s * 1000),
  };
}

const codes = (result: PollResult): string[] =>
  result.ok ? result.degraded.map((r) => r.code) : [`down:${result.failure.code}`];

describe('a device that refuses our credentials', () => {
  it('is degraded with auth-failed, named as a credentials problem with what to do', async () => {
    const camera = new RefusingCamera();
    const result = await poller(camera).poll();
    expect(result.ok).toBe(true);
    expect(codes(result)).toEqual(['auth-failed']);
    const reason = result.ok ? result.degraded[0]! : null;
    expect(reason?.message).toMatch(/^monitoring credentials rejected \(identity check: /);
    expect(reason?.message).toMatch(/update the device's password in the agent config/);
    expect(reason?.message).toMatch(/rights it lacks/);
    // It answered: up, with the readings of the check that needs no credentials.
    expect(result.values).toEqual({ up: true, responseMs: 8, clockOffsetS: 0.01 });
    // One refused login, and nothing after it (no stream or snapshot to fail either).
    expect(camera.credentialed).toEqual(['GetDeviceInformation']);
  });

  it('still goes down when it then dies: the unauthenticated check runs on every poll', async () => {
    const camera = new RefusingCamera();
    const device = poller(camera);
    const state = new DeviceState();
    state.record(await device.poll());
    expect(state.snapshot()).toMatchObject({
      status: 'degraded',
      reasons: [{ code: 'auth-failed' }],
    });

    camera.dead = true;
    for (const _ of [1, 2]) {
      device.advance(INTERVAL_S);
      state.record(await device.poll());
    }
    expect(state.snapshot()).toMatchObject({ status: 'down', reasons: [{ code: 'unreachable' }] });
  });

  it('is tried twice in a row, then once per credentialsRetryS: under five failed logins in any half hour', async () => {
    const camera = new RefusingCamera();
    const device = poller(camera);
    const triedAt: number[] = [];
    for (let poll = 0; poll < 24 * 60 * 4; poll++) {
      const before = camera.credentialed.length;
      const result = await device.poll();
      // Every poll, tried or not, says why the device is degraded.
      expect(codes(result)).toEqual(['auth-failed']);
      expect(camera.credentialed.length - before).toBeLessThanOrEqual(1);
      if (camera.credentialed.length > before) triedAt.push(poll * INTERVAL_S);
      device.advance(INTERVAL_S);
    }
    // Twice in a row (a refusal once may be a glitch), then every 30 min (the default).
    const retryS = checkDefaults.credentialsRetryS;
    expect(retryS).toBe(1800);
    expect(triedAt.slice(0, 5)).toEqual([0, 15, 15 + retryS, 15 + 2 * retryS, 15 + 3 * retryS]);
    // A try is at most 2 failed logins on the wire (agent/poll.ts; counted on the simulator
    // in test/integration/agent/credentials-lockout.test.ts): at most 2 tries in any half
    // hour keeps a device that locks after 5 in 30 min (Hikvision, Dahua) from locking.
    for (const start of triedAt) {
      expect(triedAt.filter((t) => t >= start && t < start + 1800).length).toBeLessThanOrEqual(2);
    }
  });

  it('is up again at the first try once the credentials work', async () => {
    const camera = new RefusingCamera();
    const device = poller(camera);
    const state = new DeviceState();
    state.record(await device.poll());
    camera.password = 'configured';
    device.advance(INTERVAL_S);
    const change = state.record(await device.poll()).change;
    expect(change).toMatchObject({ status: 'up', reasons: [] });
    expect(device.memory.refused).toBeNull();
  });

  it('is still polled when it wants credentials even for its clock (against ONVIF Core 5.12.1)', async () => {
    const camera = new RefusingCamera();
    camera.password = 'configured';
    const client = camera.client();
    client.clock = async () => {
      throw new OnvifError('auth-failed', 'the device refused the credentials (HTTP 401)');
    };
    const result = await runChecks(checks, contextOf(client, new DeviceMemory(), Date.now));
    // Our credentials work (identity answered): up, only without a clock reading.
    expect(codes(result)).toEqual([]);
    expect(result.values.clockOffsetS).toBeUndefined();
    expect(camera.credentialed).toContain('GetDeviceInformation');
  });

  it('an account without live-view rights: the first refused stream ends the live-view checks, and only they wait', async () => {
    const camera = new RefusingCamera();
    camera.password = 'configured';
    const client = camera.client();
    const channel = (n: number) => ({
      profileToken: `p${n}`,
      sourceToken: `vs${n}`,
      name: `Channel ${n}`,
      encoding: 'H264',
      width: null,
      height: null,
      profiles: 1,
    });
    client.channels = async () => [channel(1), channel(2)];
    client.streamUri = async (token) => `rtsp://192.0.2.1/${token}`;
    const asked: string[] = [];
    // The account works for ONVIF but lacks media rights: RTSP answers 401 after credentials.
    client.describe = async (uri) => {
      asked.push(uri);
      throw new OnvifError('auth-failed', `RTSP DESCRIBE of ${uri} answered 401 after credentials`);
    };
    client.snapshot = async (uri) => {
      asked.push(uri);
      return Buffer.alloc(0);
    };
    const memory = new DeviceMemory();
    const result = await runChecks(checks, contextOf(client, memory, Date.now));
    expect(codes(result)).toEqual(['auth-failed']);
    expect(result.ok && result.degraded[0]?.message).toMatch(
      /^live view refused to the monitoring account \(stream check: RTSP DESCRIBE of rtsp:\/\/192\.0\.2\.1\/p1 answered 401/,
    );
    expect(result.ok && result.degraded[0]?.message).toMatch(
      /recordings, storage and events are still checked/,
    );
    // One refused DESCRIBE, no second channel, no snapshot.
    expect(asked).toEqual(['rtsp://192.0.2.1/p1']);
    // The next poll, at once: the live view waits, the rest of the account is asked again.
    const before = camera.credentialed.length;
    expect(codes(await runChecks(checks, contextOf(client, memory, Date.now)))).toEqual([
      'auth-failed',
    ]);
    const second = camera.credentialed.slice(before);
    // The channels come from the test's own GetProfiles; the events check pulls its messages.
    expect(second).toEqual(['GetDeviceInformation', 'PullMessages']);
    expect(asked).toHaveLength(1);
    expect(memory.refused).toBeNull();
  });
});
