/**
 * The Dahua driver inside a poll (agent/poll.ts runChecks) with a fake client whose CGI
 * answers are the documented formats and the recorded getSystemInfo
 * (test/fixtures/vendor/dahua/SOURCE.md): chosen from the manufacturer or the config,
 * disks judged, channels read, a CGI that refuses the account or lacks an action, and
 * failures that never take the device down.
 */
import { describe, expect, it } from 'vitest';
import { identity } from '../../../../agent/checks/identity.js';
import { DeviceMemory, type Check, type CheckContext } from '../../../../agent/checks/types.js';
import { checkDefaults } from '../../../../agent/config.js';
import { dahua } from '../../../../agent/drivers/dahua/index.js';
import { DEVICE_ALL_INFO } from '../../../../agent/drivers/dahua/storage.js';
import { deviceClass, PATHS as SYSTEM } from '../../../../agent/drivers/dahua/system.js';
import { PATHS as CHANNELS } from '../../../../agent/drivers/dahua/channels.js';
import {
  OnvifError,
  type DeviceInformation,
  type OnvifClient,
  type VendorAnswer,
} from '../../../../agent/onvif/types.js';
import { runChecks, type PollResult } from '../../../../agent/poll.js';
import { dahuaFixture } from './dahua-fixtures.js';

const NVR: DeviceInformation = {
  manufacturer: 'Dahua',
  model: 'DHI-NVR4216-16P-4KS2',
  firmwareVersion: '4.001.0000005.0.R, Build Date 2024-03-15',
  serialNumber: '6G0ABCD1234567',
  hardwareId: '1.00',
};

const text = (body: string, status = 200): VendorAnswer => ({ status, body });

/** A Dahua unit: ONVIF identity `info`, CGI answers by path; what it was asked, in order. */
function dahuaUnit(info: DeviceInformation = NVR) {
  const cgi = new Map<string, VendorAnswer | null | OnvifError>([
    [SYSTEM.systemInfo, text(dahuaFixture('documented-getSystemInfo-nvr.txt'))],
    [SYSTEM.softwareVersion, text('version=4.001.0000005.0,build:2024-03-15\r\n')],
    [DEVICE_ALL_INFO, text(dahuaFixture('documented-getDeviceAllInfo-nvr-two-disks.txt'))],
    [
      CHANNELS.channelTitles,
      text('table.ChannelTitle[0].Name=Gate\r\ntable.ChannelTitle[1].Name=Yard\r\n'),
    ],
    [CHANNELS.cameraState, text(dahuaFixture('documented-getCameraState-nvr.txt'))],
  ]);
  const asked: string[] = [];
  const client = {
    deviceInformation: async () => info,
    vendorGet: async (path: string) => {
      asked.push(path);
      // An action the firmware does not know: Dahua's 400 Bad Request.
      const answer = cgi.has(path)
        ? cgi.get(path)!
        : text(dahuaFixture('documented-error-bad-request.txt'), 400);
      if (answer instanceof OnvifError) throw answer;
      return answer;
    },
  } as Partial<OnvifClient> as OnvifClient;
  return { cgi, asked, client };
}

const CHECKS: readonly Check[] = [identity, ...dahua.checks];

/**
 * Polls `unit` as the agent does; `at` is the gateway clock, moved by the test. The driver
 * is configured (`driver: dahua`) unless `device` says otherwise: how it is chosen from the
 * manufacturer has tests of its own.
 */
function poller(
  unit: ReturnType<typeof dahuaUnit>,
  device: Partial<CheckContext['device']> & { driver?: string } = {},
) {
  const memory = new DeviceMemory();
  const clock = { at: 1_700_000_000_000 };
  const poll = (): Promise<PollResult> =>
    runChecks(CHECKS, {
      device: {
        id: 'nvr-7',
        name: 'NVR 7',
        kind: 'nvr',
        xaddr: 'http://192.0.2.7/onvif/device_service',
        driver: 'dahua',
        ...device,
      },
      client: unit.client,
      signal: new AbortController().signal,
      settings: { ...checkDefaults },
      memory,
      now: () => clock.at,
      intervalS: 15,
    });
  return { poll, clock };
}

const reasons = (result: PollResult) => (result.ok ? result.degraded : [result.failure]);

describe('a Dahua NVR', () => {
  it('is recognised by its manufacturer: device, disks and channels', async () => {
    const unit = dahuaUnit();
    const result = await poller(unit, { driver: undefined }).poll();
    expect(result).toMatchObject({ ok: true, degraded: [] });
    expect(result.values).toMatchObject({ up: true, storages: 2, storageUsedPct: 70 });
    expect(result.vendor).toEqual({
      driver: 'dahua',
      device: {
        model: 'DHI-NVR4216-16P-4KS2',
        deviceType: 'NVR',
        serialNumber: '6G0ABCD1234567',
        firmwareVersion: '4.001.0000005.0,build:2024-03-15',
      },
      disks: [
        expect.objectContaining({
          id: '1',
          name: '/dev/sda',
          state: 'Success',
          health: 'ok',
          freeMiB: 0,
        }),
        expect.objectContaining({ id: '2', name: '/dev/sdb', state: 'Success', health: 'ok' }),
      ],
      channels: [
        { id: '1', name: 'Gate', online: true, detail: 'Connected' },
        { id: '2', name: 'Yard', online: false, detail: 'Unconnect' },
        { id: '3', online: true, detail: 'Connected' },
        { id: '4', online: false, detail: 'Connecting' },
      ],
    });
    expect(unit.asked).toEqual([
      SYSTEM.systemInfo,
      SYSTEM.softwareVersion,
      DEVICE_ALL_INFO,
      CHANNELS.channelTitles,
      CHANNELS.cameras, // this unit lacks it (Bad Request!): every channel is listed
      CHANNELS.cameraState,
    ]);
  });

  it("lists only the channels with a camera bound, with the camera's address", async () => {
    const unit = dahuaUnit();
    // getCameraAll as public projects read it (written by us, not a recording): UniqueChannel
    // is the NVR's channel; Channel the camera's own, which must not be taken for it.
    unit.cgi.set(
      CHANNELS.cameras,
      text(
        [
          'camera[0].Channel=0',
          'camera[0].DeviceInfo.Address=192.168.1.108',
          'camera[0].Enable=true',
          'camera[0].Type=Remote',
          'camera[0].UniqueChannel=0',
          'camera[1].Channel=0',
          'camera[1].DeviceInfo.Address=192.168.1.109',
          'camera[1].DeviceInfo.VideoInputs[0].Name=IPC',
          'camera[1].Enable=true',
          'camera[1].UniqueChannel=2',
          'camera[2].DeviceInfo.Address=0.0.0.0',
          'camera[2].Enable=false',
          'camera[2].UniqueChannel=1',
          '',
        ].join('\r\n'),
      ),
    );
    const result = await poller(unit).poll();
    expect(result.vendor?.channels).toEqual([
      { id: '1', name: 'Gate', address: '192.168.1.108', online: true, detail: 'Connected' },
      { id: '3', name: 'IPC', address: '192.168.1.109', online: true, detail: 'Connected' },
    ]);
  });

  it('keeps the last good camera list when getCameraAll fails, until it answers again', async () => {
    const unit = dahuaUnit();
    unit.cgi.set(
      CHANNELS.cameras,
      text(
        [
          'camera[0].DeviceInfo.Address=192.168.1.108',
          'camera[0].Enable=true',
          'camera[0].UniqueChannel=0',
          '',
        ].join('\r\n'),
      ),
    );
    const { poll, clock } = poller(unit);
    const bound = [
      { id: '1', name: 'Gate', address: '192.168.1.108', online: true, detail: 'Connected' },
    ];
    expect((await poll()).vendor?.channels).toEqual(bound);
    // Ten minutes on, the slow list is asked again and the NVR does not answer in time:
    // the free channels (Yard, 3, 4) must not come back as cameras gone.
    clock.at += 10 * 60_000;
    unit.cgi.set(CHANNELS.cameras, new OnvifError('timeout', 'no answer within 5000 ms'));
    const failed = await poll();
    expect(failed.vendor?.channels).toEqual(bound);
    expect(failed.vendor?.problems?.join(' ')).toMatch(/getCameraAll.*no answer/);
    // Another poll before the next slow list: still the good list.
    clock.at += 15_000;
    expect((await poll()).vendor?.channels).toEqual(bound);
  });

  it('tells a recorder from a camera by the model name', () => {
    expect(
      [
        'DHI-NVR4216-16P-4KS2',
        'DH-XVR5108HS',
        'HCVR5104HS',
        'IPC-HDW2431T-AS',
        'SD49225T-HN',
        'IP4M-1041B',
      ].map(deviceClass),
    ).toEqual(['NVR', 'XVR', 'DVR', 'IPC', 'IPC', 'IP4M-1041B']);
  });

  it('recognises Dahua however it is written, and nothing else', () => {
    for (const name of ['Dahua', 'DAHUA', 'Dahua Technology Co., Ltd']) {
      expect(dahua.recognises(name), name).toBe(true);
    }
    for (const name of ['General', 'Amcrest', 'HIKVISION', 'Lorex', '']) {
      expect(dahua.recognises(name), name).toBe(false);
    }
  });

  it('is Dahua for an OEM rebrand when the config says so', async () => {
    const unit = dahuaUnit({ ...NVR, manufacturer: 'General' });
    expect((await poller(unit, { driver: undefined }).poll()).vendor).toBeUndefined();
    const told = await poller(unit).poll();
    expect(told.vendor?.driver).toBe('dahua');
  });

  it('gives storage-failure for a disk in error; degraded, never down', async () => {
    const unit = dahuaUnit();
    unit.cgi.set(DEVICE_ALL_INFO, text(dahuaFixture('documented-getDeviceAllInfo-disk-error.txt')));
    const result = await poller(unit).poll();
    expect(result.ok).toBe(true);
    expect(reasons(result).map((r) => [r.code, r.message.split(':')[0]])).toEqual([
      ['storage-failure', 'disk /dev/sdb (id 2) is Error'],
    ]);
    expect(result.vendor?.disks?.[1]).toMatchObject({
      health: 'failed',
      freeMiB: expect.any(Number),
    });
  });

  it('asks a camera for its system info only, and reads the disks of a recorder listed as a camera', async () => {
    const camera = dahuaUnit({ ...NVR, model: 'DH-IPC-HFW2431S-S-S2' });
    camera.cgi.set(
      SYSTEM.systemInfo,
      text(dahuaFixture('recorded-getSystemInfo-amcrest-IP4M-1041B.txt')),
    );
    await poller(camera, { kind: 'camera' }).poll();
    expect(camera.asked).toEqual([SYSTEM.systemInfo, SYSTEM.softwareVersion]);

    const recorder = dahuaUnit();
    const result = await poller(recorder, { kind: 'camera' }).poll();
    expect(result.values.storages).toBe(2);
  });

  it('asks the system info at most every ten minutes and reports it meanwhile', async () => {
    const unit = dahuaUnit();
    const { poll, clock } = poller(unit);
    await poll();
    clock.at += 15_000;
    expect((await poll()).vendor?.device?.serialNumber).toBe('6G0ABCD1234567');
    const count = (path: string) => unit.asked.filter((p) => p === path).length;
    expect([count(SYSTEM.systemInfo), count(DEVICE_ALL_INFO), count(CHANNELS.cameraState)]).toEqual(
      [1, 2, 2],
    );
    expect(count(CHANNELS.channelTitles)).toBe(1);
    clock.at += 10 * 60_000;
    await poll();
    expect(count(SYSTEM.systemInfo)).toBe(2);
  });
});

describe('a CGI that refuses the account', () => {
  it('401 after credentials: one reason of its own, nothing more asked this poll', async () => {
    const unit = dahuaUnit();
    unit.cgi.set(
      SYSTEM.systemInfo,
      new OnvifError(
        'auth-failed',
        'GET http://192.0.2.7/cgi-bin/magicBox.cgi refused the credentials (401)',
      ),
    );
    const result = await poller(unit).poll();
    expect(result.ok).toBe(true);
    expect(reasons(result).map((r) => r.code)).toEqual(['auth-failed']);
    expect(unit.asked).toEqual([SYSTEM.systemInfo]);
  });

  it('Error / Invalid Authority! is the same refusal, naming the right to give', async () => {
    const unit = dahuaUnit();
    unit.cgi.set(DEVICE_ALL_INFO, text('Error\r\nInvalid Authority!\r\n', 400));
    const [reason] = reasons(await poller(unit).poll());
    expect(reason).toMatchObject({ code: 'auth-failed' });
    expect(reason!.message).toMatch(
      /Dahua HTTP API \/cgi-bin\/storageDevice\.cgi refused the monitoring account \(HTTP 400, Invalid Authority!\): give the account the right/,
    );
  });
});

describe('what the CGI lacks or fails', () => {
  it('an action the firmware lacks (400 Bad Request!, 501) reports nothing, asked again in an hour', async () => {
    const unit = dahuaUnit();
    unit.cgi.delete(CHANNELS.cameraState); // 400 Bad Request!
    unit.cgi.set(SYSTEM.softwareVersion, null); // 501: vendorGet's null
    const { poll, clock } = poller(unit);
    const first = await poll();
    expect(first).toMatchObject({ ok: true, degraded: [] });
    expect(first.vendor?.channels).toBeUndefined();
    expect(first.vendor?.problems).toBeUndefined();
    expect(first.vendor?.device?.firmwareVersion).toBeUndefined();
    for (let i = 0; i < 3; i++) {
      clock.at += 15_000;
      await poll();
    }
    const count = (path: string) => unit.asked.filter((p) => p === path).length;
    expect([count(CHANNELS.cameraState), count(DEVICE_ALL_INFO)]).toEqual([1, 4]);
    clock.at += 60 * 60_000;
    await poll();
    expect(count(CHANNELS.cameraState)).toBe(2);
  });

  it('Error on a 200 is the same as Bad Request: nothing', async () => {
    const unit = dahuaUnit();
    unit.cgi.set(DEVICE_ALL_INFO, text('Error\r\nBad Request!\r\n', 200));
    const result = await poller(unit).poll();
    expect(result).toMatchObject({ ok: true, degraded: [] });
    expect(result.values.storages).toBeUndefined();
  });

  it('a timeout or a server error is a problem among the findings, never a reason', async () => {
    const unit = dahuaUnit();
    unit.cgi.set(DEVICE_ALL_INFO, new OnvifError('timeout', 'no answer within 5000 ms'));
    unit.cgi.set(CHANNELS.cameraState, text('', 500));
    const result = await poller(unit).poll();
    expect(result).toMatchObject({ ok: true, degraded: [] });
    expect(result.vendor?.problems).toEqual([
      `GET ${DEVICE_ALL_INFO}: no answer within 5000 ms`,
      `GET ${CHANNELS.cameraState}: Dahua HTTP API /cgi-bin/LogicDeviceManager.cgi answered HTTP 500`,
    ]);
  });
});
