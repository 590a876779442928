import { describe, expect, it } from 'vitest';
import { MemoryLogger } from '../../../agent/log.js';
import { Secret } from '../../../agent/secret.js';
import { MemorySpool } from '../../../agent/spool/memory.js';
import { safeUrl, Uplink } from '../../../agent/uplink.js';

describe('uplink', () => {
  it('shows a broker URL without credentials', () => {
    expect(safeUrl('mqtts://user:secret@noc.example.com:8883')).toBe(
      'mqtts://noc.example.com:8883',
    );
    expect(safeUrl('mqtt://127.0.0.1:1883')).toBe('mqtt://127.0.0.1:1883');
    expect(safeUrl('not a url')).toBe('(invalid URL)');
  });

  it('refuses a message that breaks its schema, and says why', () => {
    const log = new MemoryLogger();
    const uplink = new Uplink({
      siteId: 'demo-site',
      agentId: 'gw-01',
      mqtt: { url: 'mqtt://127.0.0.1:1', username: 'demo-site.gw-01', password: new Secret('pw') },
      log,
      spool: new MemorySpool(),
      birth: () => ({
        state: 'online',
        version: '0',
        startedAt: new Date().toISOString(),
        hostname: 'h',
        devices: [],
      }),
    });
    const sent = uplink.publishDeviceMetrics('cam-01', {
      deviceId: 'cam-01',
      kind: 'camera',
      values: { up: true, profiles: -1 },
    });
    expect(sent).toBe(false);
    expect(uplink.invalidMessages).toBe(1);
    expect(log.text()).toMatch(
      /VIGIL_MESSAGE_INVALID: a deviceMetrics message .*values\/profiles: must be >= 0/,
    );
  });
});
