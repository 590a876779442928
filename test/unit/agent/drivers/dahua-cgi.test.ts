/**
 * The Dahua CGI parsers (agent/drivers/dahua/cgi.ts) against a recorded answer of a real
 * device and the vendor's documented format (test/fixtures/vendor/dahua/SOURCE.md says
 * which is which), and against what real firmware varies in: line ends, key case, missing
 * and unknown keys, `=` inside values.
 */
import { describe, expect, it } from 'vitest';
import {
  booleanOf,
  cgiErrorText,
  field,
  groups,
  isCgiError,
  numberOf,
  parseCameraAll,
  parseCameraStates,
  parseChannelTitles,
  parseCgi,
  parseDeviceAllInfo,
  parseSoftwareVersion,
  parseSystemInfo,
} from '../../../../agent/drivers/dahua/cgi.js';
import { dahuaFixture } from './dahua-fixtures.js';

describe('parseCgi: the key=value lines of every answer', () => {
  it('reads CRLF, LF and CR line ends alike, and skips blank lines', () => {
    for (const end of ['\r\n', '\n', '\r']) {
      const values = parseCgi(['a=1', '', 'b.c[0].d=two', ''].join(end));
      expect([...values]).toEqual([
        ['a', '1'],
        ['b.c[0].d', 'two'],
      ]);
    }
  });

  it('keeps everything after the first = as the value', () => {
    const values = parseCgi('table.ChannelTitle[0].Name=Gate=North\r\nx==\r\n');
    expect(values.get('table.ChannelTitle[0].Name')).toBe('Gate=North');
    expect(values.get('x')).toBe('=');
  });

  it('skips lines without a key (Error, Bad Request!, OK) and a byte-order mark', () => {
    const values = parseCgi('\ufeffa=1\r\nOK\r\n=orphan\r\nError\r\n');
    expect([...values]).toEqual([['a', '1']]);
  });

  it('trims white space around keys and values; an empty value stays empty', () => {
    const values = parseCgi('  a = 1  \r\nb=\r\n');
    expect(values.get('a')).toBe('1');
    expect(values.get('b')).toBe('');
  });

  it('lets a later line of the same key win', () => {
    expect(parseCgi('a=1\na=2\n').get('a')).toBe('2');
  });
});

describe('isCgiError: Dahua error text, whatever the status', () => {
  it('recognises the documented Error / Bad Request! answer', () => {
    const body = dahuaFixture('documented-error-bad-request.txt');
    expect(isCgiError(body)).toBe(true);
    expect(cgiErrorText(body)).toBe('Bad Request!');
  });

  it('does not take data for an error', () => {
    expect(isCgiError(dahuaFixture('documented-getDeviceAllInfo-nvr-two-disks.txt'))).toBe(false);
    expect(isCgiError('ErrorCount=3\r\n')).toBe(false);
    expect(isCgiError('')).toBe(false);
  });
});

describe('groups and fields: indexed lists', () => {
  it('groups by index in numeric order, with gaps, case-insensitively', () => {
    const values = parseCgi('S[10].x=c\r\ns[2].x=b\r\nstates[0].x=a\r\nS[2].Y=d\r\n');
    const found = groups(values, 's');
    expect(found.map((g) => g.index)).toEqual([2, 10]);
    expect(field(found[0]!.values, 'y')).toBe('d');
    expect(field(found[0]!.values, 'missing')).toBeUndefined();
  });

  it('does not take a longer prefix for the one asked', () => {
    const values = parseCgi('list.infoX[0].a=1\r\nlist.info[0].a=2\r\n');
    expect(groups(values, 'list.info').map((g) => field(g.values, 'a'))).toEqual(['2']);
  });

  it('reads numbers and booleans as Dahua writes them', () => {
    expect(numberOf('1495797858304.000000')).toBe(1495797858304);
    expect(numberOf('')).toBeNull();
    expect(numberOf('n/a')).toBeNull();
    expect(numberOf(undefined)).toBeNull();
    expect(booleanOf('False')).toBe(false);
    expect(booleanOf('TRUE')).toBe(true);
    expect(booleanOf('1')).toBe(true);
    expect(booleanOf('maybe')).toBeNull();
  });
});

describe('parseDeviceAllInfo (storageDevice.cgi getDeviceAllInfo)', () => {
  it('reads every disk and partition of the documented format', () => {
    const disks = parseDeviceAllInfo(dahuaFixture('documented-getDeviceAllInfo-nvr-two-disks.txt'));
    expect(disks).toHaveLength(2);
    expect(disks[0]).toEqual({
      index: 0,
      name: '/dev/sda',
      state: 'Success',
      healthDataFlag: 1,
      partitions: [
        {
          index: 0,
          path: '/dev/sda0',
          type: 'ReadWrite',
          totalBytes: 1996801769472,
          usedBytes: 1996801769472,
          isError: false,
        },
        {
          index: 1,
          path: '/dev/sda1',
          type: 'ReadWrite',
          totalBytes: 1996801769472,
          usedBytes: 1996801769472,
          isError: false,
        },
      ],
    });
    expect(disks[1]!.partitions).toHaveLength(1);
  });

  it('ignores the SD-card fields it does not use', () => {
    const [card] = parseDeviceAllInfo(
      dahuaFixture('documented-getDeviceAllInfo-camera-sd-card.txt'),
    );
    expect(card).toMatchObject({ name: '/dev/mmc0', state: 'Success', healthDataFlag: 0 });
    expect(card!.partitions[0]!.totalBytes).toBe(62226153472);
  });

  it('survives missing keys: no State, no sizes, no IsError', () => {
    const [disk] = parseDeviceAllInfo('list.info[0].Detail[0].Path=/dev/sda0\r\n');
    expect(disk).toEqual({
      index: 0,
      name: '',
      state: '',
      healthDataFlag: null,
      partitions: [
        { index: 0, path: '/dev/sda0', type: '', totalBytes: null, usedBytes: null, isError: null },
      ],
    });
  });

  it('reads answers without the list. prefix', () => {
    const disks = parseDeviceAllInfo('info[0].Name=/dev/sda\ninfo[0].State=Success\n');
    expect(disks.map((d) => d.name)).toEqual(['/dev/sda']);
  });

  it('gives no disk for an error answer or an empty body', () => {
    expect(parseDeviceAllInfo(dahuaFixture('documented-error-bad-request.txt'))).toEqual([]);
    expect(parseDeviceAllInfo('')).toEqual([]);
  });
});

describe('parseSystemInfo (magicBox.cgi getSystemInfo)', () => {
  it('reads the recorded answer of an Amcrest IP4M-1041B (Dahua firmware)', () => {
    expect(parseSystemInfo(dahuaFixture('recorded-getSystemInfo-amcrest-IP4M-1041B.txt'))).toEqual({
      deviceType: 'IP4M-1041B',
      serialNumber: '12345',
      hardwareVersion: '1.00',
      processor: 'SSC327DE',
      updateSerial: 'IPC-AW46WN-S2',
    });
  });

  it('reads an NVR answer in the documented format, CRLF', () => {
    expect(parseSystemInfo(dahuaFixture('documented-getSystemInfo-nvr.txt'))).toMatchObject({
      deviceType: 'DHI-NVR4216-16P-4KS2',
      serialNumber: '6G0ABCD1234567',
    });
  });

  it('reads getDeviceType (type=) as the model; absent fields are null', () => {
    expect(parseSystemInfo('type=DH-IPC-HFW1230S\r\n')).toEqual({
      deviceType: 'DH-IPC-HFW1230S',
      serialNumber: null,
      hardwareVersion: null,
      processor: null,
      updateSerial: null,
    });
  });

  it('reads getSoftwareVersion as the device writes it', () => {
    expect(parseSoftwareVersion('version=4.001.0000005.0,build:2020-11-17\r\n')).toBe(
      '4.001.0000005.0,build:2020-11-17',
    );
    expect(parseSoftwareVersion('Error\r\nBad Request!\r\n')).toBeNull();
  });
});

describe('parseCameraStates (LogicDeviceManager.cgi getCameraState)', () => {
  it('reads every remote channel of the documented format', () => {
    expect(parseCameraStates(dahuaFixture('documented-getCameraState-nvr.txt'))).toEqual([
      { channel: 0, connectionState: 'Connected' },
      { channel: 1, connectionState: 'Unconnect' },
      { channel: 2, connectionState: 'Connected' },
      { channel: 3, connectionState: 'Connecting' },
    ]);
  });

  it('reads the capitalised field names of other firmware, and drops unreadable channels', () => {
    const body =
      'states[0].Channel=4\r\nstates[0].ConnectionState=Connected\r\nstates[1].Channel=x\r\n';
    expect(parseCameraStates(body)).toEqual([{ channel: 4, connectionState: 'Connected' }]);
  });
});

describe('parseChannelTitles and parseCameraAll (the channel list)', () => {
  it('reads the titles by 0-based channel, leaving empty names out', () => {
    const titles = parseChannelTitles(
      'table.ChannelTitle[0].Name=Gate=North\r\ntable.ChannelTitle[1].Name=\r\ntable.ChannelTitle[2].Name=大门\r\n',
    );
    expect([...titles]).toEqual([
      [0, 'Gate=North'],
      [2, '大门'],
    ]);
  });

  it("takes UniqueChannel for the NVR's channel, never the camera's own Channel", () => {
    // Written by us in the shape public projects read (not a recording, not the vendor's
    // document): the recorder's web page reads the same fields over RPC2.
    const body = [
      'table.camera[0].Channel=3',
      'table.camera[0].DeviceInfo.Address=10.0.0.5',
      'table.camera[0].DeviceInfo.Enable=true',
      'table.camera[0].UniqueChannel=7',
      'table.camera[1].DeviceInfo.Address=0.0.0.0',
      'table.camera[1].UniqueChannel=8',
      'table.camera[2].DeviceInfo.Address=10.0.0.6',
    ].join('\r\n');
    expect(parseCameraAll(body)).toEqual([
      { uniqueChannel: 7, enabled: true, address: '10.0.0.5', name: null },
      { uniqueChannel: 8, enabled: null, address: null, name: null },
    ]);
  });
});
