/**
 * What a Dahua recorder's getDeviceAllInfo means for the NOC (agent/drivers/dahua/storage.ts,
 * judged by agent/drivers/disks.ts): a failed or unformatted disk is a storage-failure
 * naming the disk, what the recorder said and what to do; an empty bay is nothing;
 * storageUsedPct is the working disks' used space over their capacity, together.
 */
import { describe, expect, it } from 'vitest';
import { parseDeviceAllInfo, type DahuaDisk } from '../../../../agent/drivers/dahua/cgi.js';
import { diskAdvice, diskCondition, toDisk } from '../../../../agent/drivers/dahua/storage.js';
import { judgeDisks } from '../../../../agent/drivers/disks.js';
import { dahuaFixture } from './dahua-fixtures.js';

const GIB = 1024 ** 3;

function disk(partial: Partial<DahuaDisk> = {}): DahuaDisk {
  return {
    index: 0,
    name: '/dev/sda',
    state: 'Success',
    healthDataFlag: 1,
    partitions: [
      {
        index: 0,
        path: '/dev/sda0',
        type: 'ReadWrite',
        totalBytes: 100 * GIB,
        usedBytes: 50 * GIB,
        isError: false,
      },
    ],
    ...partial,
  };
}

/** One partition of `total` GiB with `used` GiB written. */
function part(total: number | null, used: number, isError: boolean | null = false) {
  return {
    index: 0,
    path: '',
    type: 'ReadWrite',
    totalBytes: total === null ? null : total * GIB,
    usedBytes: used * GIB,
    isError,
  };
}

const judge = (disks: DahuaDisk[]) => judgeDisks(disks.map(toDisk), diskAdvice);
const judgeFixture = (name: string) => judge(parseDeviceAllInfo(dahuaFixture(name)));

describe('the documented answers', () => {
  it('two working disks: no reason, two storages, 70 % used together (the first full, the second 40 %)', () => {
    expect(judgeFixture('documented-getDeviceAllInfo-nvr-two-disks.txt')).toEqual({
      values: { storages: 2, storageUsedPct: 70 },
      degraded: [],
    });
  });

  it('a disk in State Error: storage-failure naming it, what the recorder said, what to do', () => {
    const { values, degraded } = judgeFixture('documented-getDeviceAllInfo-disk-error.txt');
    expect(values).toEqual({ storages: 2, storageUsedPct: 100 });
    expect(degraded).toEqual([
      {
        code: 'storage-failure',
        message: expect.stringMatching(
          /^disk \/dev\/sdb \(id 2\) is Error: the recorder reports it failed \(State Error, IsError on \/dev\/sdb0\): .*replace it/,
        ),
      },
    ]);
  });

  it('a new disk without partitions: unformatted, saying to format it', () => {
    const { values, degraded } = judgeFixture('documented-getDeviceAllInfo-unformatted.txt');
    expect(values).toEqual({ storages: 2, storageUsedPct: 100 });
    expect(degraded.map((r) => r.message)).toEqual([
      expect.stringMatching(
        /^disk \/dev\/sdb \(id 2\) is unformatted: the recorder has nowhere to record on it \(State Success but no partition\): format it on the recorder/,
      ),
    ]);
  });

  it("a camera's SD card: one storage at its share", () => {
    expect(judgeFixture('documented-getDeviceAllInfo-camera-sd-card.txt')).toEqual({
      values: { storages: 1, storageUsedPct: 50 },
      degraded: [],
    });
  });

  it('no disk at all: nothing wrong, no share, zero storages', () => {
    expect(judge([])).toEqual({ values: { storages: 0 }, degraded: [] });
  });
});

describe('each way a disk is reported', () => {
  it.each([
    ['Error', 'error'],
    ['Failure', 'error'],
    ['Fault', 'error'],
    ['SmartFailed', 'smartFailed'],
    ['smart-error', 'smartFailed'],
    ['Unformatted', 'unformatted'],
    ['NotFormat', 'unformatted'],
    ['notexist', 'absent'],
    ['NoDisk', 'absent'],
    ['Initializing', 'unknown'],
    ['Unknown', 'unknown'],
    ['', 'unknown'],
    ['Success', 'ok'],
    ['SUCCESS', 'ok'],
  ])('State %j is %s', (state, condition) => {
    expect(diskCondition(disk({ state })).condition).toBe(condition);
  });

  it('IsError on a partition fails the disk even in State Success, and says so', () => {
    const d = disk({ partitions: [{ ...part(10, 1, true), path: '' }] });
    expect(diskCondition(d)).toEqual({
      condition: 'error',
      evidence: 'State Success, IsError on partition 1',
    });
    expect(toDisk(d)).toMatchObject({ state: 'error', health: 'failed' });
  });

  it('a disk in State Success whose partitions have no space is unformatted', () => {
    expect(diskCondition(disk({ partitions: [part(0, 0), part(null, 0)] }))).toEqual({
      condition: 'unformatted',
      evidence: 'State Success but no partition with space',
    });
  });

  it('HealthDataFlag 2 (health data could not be read) fails nothing by itself', () => {
    expect(diskCondition(disk({ healthDataFlag: 2 })).condition).toBe('ok');
  });

  it('an empty bay is no failure and not counted; an unknown state is counted, no verdict', () => {
    const { values, degraded } = judge([
      disk(),
      disk({ index: 1, name: '', state: 'notexist', partitions: [] }),
      disk({ index: 2, name: '/dev/sdc', state: 'Initializing' }),
    ]);
    expect(degraded).toEqual([]);
    expect(values).toEqual({ storages: 2, storageUsedPct: 50 });
  });

  it('a SMART failure says the disk is about to fail; a nameless disk is named by its place', () => {
    const [reason] = judge([disk({ state: 'SmartFailed', index: 3, name: '' })]).degraded;
    expect(reason!.message).toMatch(
      /^disk #4 is SmartFailed: its SMART data predicts that it fails soon/,
    );
  });
});

describe('sizes', () => {
  it('sums the partitions in MiB, clamps used to total, skips partitions without a size', () => {
    const view = toDisk(disk({ partitions: [part(300, 100), part(100, 500), part(null, 7)] }));
    expect(view).toMatchObject({
      capacityMiB: 400 * 1024,
      freeMiB: 200 * 1024,
      property: 'ReadWrite',
    });
  });

  it('storageUsedPct is the working disks together, never a failed or unknown one', () => {
    const { values, degraded } = judge([
      disk({ partitions: [part(1000, 123)] }),
      disk({ index: 1, state: 'Initializing', partitions: [part(10, 10)] }),
      disk({ index: 2, name: '/dev/sdc', state: 'Error', partitions: [part(10, 10)] }),
      disk({ index: 3, name: '/dev/sdd', partitions: [part(1000, 456)] }),
    ]);
    // (123 + 456) / (1000 + 1000): the first full disk does not make the storage full.
    expect(values).toEqual({ storages: 4, storageUsedPct: 29 });
    expect(degraded.map((r) => r.message.split(':')[0])).toEqual(['disk /dev/sdc (id 3) is Error']);
  });
});
