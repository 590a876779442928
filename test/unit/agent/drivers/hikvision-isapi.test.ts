/**
 * The Hikvision ISAPI readers against the documented formats and the one published
 * answer (test/fixtures/vendor/hikvision/SOURCE.md says which file is which): disks and
 * their states, an empty bay, an overwriting recorder's full disk, device info, system
 * status with its quirks, an NVR's channels, and how ISAPI says no.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { judgeDisks } from '../../../../agent/drivers/disks.js';
import {
  diskAdvice,
  diskHealth,
  mergeChannels,
  parseChannelList,
  parseChannelStatus,
  parseDeviceInfo,
  parseStorage,
  parseSystemStatus,
  responseStatusOf,
  uptimeSeconds,
} from '../../../../agent/drivers/hikvision/isapi.js';
import { parseXml } from '../../../../agent/onvif/soap.js';
import { OnvifError } from '../../../../agent/onvif/types.js';

const FIXTURES = new URL('../../../fixtures/vendor/hikvision/', import.meta.url);

function fixture(name: string): ReturnType<typeof parseXml> {
  return parseXml(readFileSync(new URL(name, FIXTURES), 'utf8'));
}

describe('ISAPI storage', () => {
  it('reads each bay, an empty one as notexist, sizes in MiB', () => {
    const disks = parseStorage(fixture('documented-storage-empty-bay.xml'));
    expect(disks).toEqual([
      {
        id: '1',
        name: 'hdd1',
        state: 'ok',
        health: 'ok',
        capacityMiB: 9537536,
        freeMiB: 8836096,
        type: 'SATA',
        property: 'RW',
      },
      {
        id: '2',
        name: 'hdd2',
        state: 'notexist',
        health: 'empty',
        capacityMiB: 0,
        freeMiB: 0,
        type: 'SATA',
        property: 'RW',
      },
    ]);
    // The empty bay is no fault and no disk: one disk, 7.4 % used.
    expect(judgeDisks(disks, diskAdvice)).toEqual({
      values: { storages: 1, storageUsedPct: 7.4 },
      degraded: [],
    });
  });

  it('takes free space 0 on an overwriting recorder as a full disk, not a fault', () => {
    const disks = parseStorage(fixture('documented-storage-overwriting.xml'));
    expect(disks).toHaveLength(1);
    expect(disks[0]).toMatchObject({ state: 'ok', capacityMiB: 3815447, freeMiB: 0 });
    expect(judgeDisks(disks, diskAdvice)).toEqual({
      values: { storages: 1, storageUsedPct: 100 },
      degraded: [],
    });
  });

  it('gives storage-failure for each failed disk, naming it and what to do', () => {
    const disks = parseStorage(fixture('documented-storage-failures.xml'));
    expect(disks.map((d) => [d.name, d.state, d.health])).toEqual([
      ['hdd1', 'ok', 'ok'],
      ['hdd2', 'smartFailed', 'failed'],
      ['hdd3', 'error', 'failed'],
      ['hdd4', 'unformatted', 'failed'],
      ['hdd5', 'idle', 'ok'],
      ['hdd6', 'formating', 'other'],
      ['hdd7', 'notexist', 'empty'],
      ['NAS 192.0.2.80:/volume1/nvr', 'offline', 'failed'],
    ]);
    const verdict = judgeDisks(disks, diskAdvice);
    // Seven disks present (the empty bay is not one); the working disks are hdd1 (70 % of
    // 3815447 MiB used) and hdd5 (idle, 50 % of 1907729): 3624678 / 5723176 MiB = 63.3 %.
    // hdd2 is failing and is not a working disk, hdd6 is being formatted.
    expect(verdict.values).toEqual({ storages: 7, storageUsedPct: 63.3 });
    expect(verdict.degraded.map((r) => r.code)).toEqual([
      'storage-failure',
      'storage-failure',
      'storage-failure',
      'storage-failure',
    ]);
    const [smart, error, unformatted, nas] = verdict.degraded.map((r) => r.message);
    expect(smart).toMatch(/^disk hdd2 is smartFailed: .*S\.M\.A\.R\.T\..*replace it/);
    expect(error).toMatch(/^disk hdd3 is error: .*nothing is recorded on it.*replace it/);
    expect(unformatted).toMatch(/^disk hdd4 is unformatted: .*initialise it on the recorder/);
    expect(nas).toMatch(/^disk NAS 192\.0\.2\.80:\/volume1\/nvr \(id 9\) is offline: .*NAS/);
  });

  it('reads a camera without a memory card as no disk at all', () => {
    const disks = parseStorage(fixture('documented-storage-camera-without-card.xml'));
    expect(disks).toEqual([]);
    expect(judgeDisks(disks, diskAdvice)).toEqual({ values: { storages: 0 }, degraded: [] });
  });

  it('knows the documented states and leaves the unknown ones alone', () => {
    expect(diskHealth('SmartFailed')).toBe('failed');
    expect(diskHealth(' mismatch ')).toBe('failed');
    expect(diskHealth('reparing')).toBe('other');
    expect(diskHealth('somethingNew')).toBe('other');
  });

  it('refuses an answer that is not a storage list', () => {
    expect(() => parseStorage(fixture('documented-status-nvr.xml'))).toThrow(OnvifError);
    expect(() => parseStorage(fixture('documented-status-nvr.xml'))).toThrow(
      /not an ISAPI storage answer: its root element is <DeviceStatus>/,
    );
  });
});

describe('ISAPI device info and status', () => {
  it('reads the device info', () => {
    expect(parseDeviceInfo(fixture('documented-deviceInfo-nvr.xml'))).toEqual({
      model: 'DS-7608NXI-I2/8P/S',
      serialNumber: 'DS-7608NXI-I2/8P/S20230101CCRRJ12345678WCVU',
      firmwareVersion: 'V4.62.210',
      deviceType: 'NVR',
      macAddress: '00:00:5e:00:53:01',
    });
  });

  it('reads the busiest processor and the uptime; memory is left alone', () => {
    expect(parseSystemStatus(fixture('documented-status-nvr.xml'))).toEqual({
      cpuPct: 31,
      uptimeS: 1209615,
    });
  });

  it('reads the published answer: a fractional CPU and an uptime in Chinese words', () => {
    expect(parseSystemStatus(fixture('published-status-hertzbeat.xml'))).toEqual({
      cpuPct: 36.4,
      uptimeS: ((87 * 24 + 0) * 60 + 55) * 60 + 59,
    });
  });

  it('reads uptimes as firmware writes them', () => {
    expect(uptimeSeconds('513477')).toBe(513477);
    expect(uptimeSeconds('1天2小时3分4秒')).toBe(93784);
    expect(uptimeSeconds('5分')).toBe(300);
    expect(uptimeSeconds('')).toBeUndefined();
    expect(uptimeSeconds('soon')).toBeUndefined();
  });

  it('finds a temperature where a firmware gives one, and only a plausible one', () => {
    // Not a documented element: firmware that reports one puts it in places of its own.
    const status = (inner: string): ReturnType<typeof parseXml> =>
      parseXml(
        `<DeviceStatus xmlns="http://www.hikvision.com/ver20/XMLSchema">${inner}</DeviceStatus>`,
      );
    expect(
      parseSystemStatus(
        status(
          '<TemperatureList><Temperature><temperature>47</temperature></Temperature></TemperatureList>',
        ),
      ),
    ).toEqual({ temperatureC: 47 });
    expect(parseSystemStatus(status('<deviceTemperature>-4095</deviceTemperature>'))).toEqual({});
  });
});

describe('ISAPI channels of an NVR', () => {
  it('reads each channel online or not, and why', () => {
    expect(parseChannelStatus(fixture('documented-channel-status.xml'))).toEqual([
      { id: '1', online: true, address: '192.168.254.2', detail: 'connect' },
      { id: '2', online: false, address: '192.168.254.3', detail: 'netUnreachable' },
      { id: '3', online: false, detail: 'errorUserNameOrPasswd' },
    ]);
  });

  it("reads names and addresses, never the camera's password", () => {
    const list = parseChannelList(fixture('documented-channels.xml'));
    expect(list).toEqual([
      { id: '1', online: null, name: '摄像机12', address: '192.168.254.2' },
      { id: '2', online: null, name: 'Car park', address: '192.168.254.3' },
      { id: '4', online: null, name: 'Gate', address: '192.168.254.5' },
    ]);
    expect(JSON.stringify(list)).not.toContain('camera-secret');
  });

  it('merges the two: every channel once, in id order', () => {
    const merged = mergeChannels(
      parseChannelStatus(fixture('documented-channel-status.xml')),
      parseChannelList(fixture('documented-channels.xml')),
    );
    expect(merged).toEqual([
      { id: '1', online: true, address: '192.168.254.2', detail: 'connect', name: '摄像机12' },
      {
        id: '2',
        online: false,
        address: '192.168.254.3',
        detail: 'netUnreachable',
        name: 'Car park',
      },
      { id: '3', online: false, detail: 'errorUserNameOrPasswd' },
      { id: '4', online: null, name: 'Gate', address: '192.168.254.5' },
    ]);
    expect(
      mergeChannels(parseChannelStatus(fixture('documented-channel-status.xml')), null),
    ).toHaveLength(3);
  });
});

describe('ISAPI ResponseStatus', () => {
  it('reads how ISAPI says no', () => {
    expect(responseStatusOf(fixture('documented-response-not-supported.xml'))).toEqual({
      statusCode: '4',
      statusString: 'Invalid Operation',
      subStatusCode: 'notSupport',
    });
    expect(responseStatusOf(fixture('documented-storage-overwriting.xml'))).toBeNull();
  });
});
