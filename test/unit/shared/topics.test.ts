import { describe, expect, it } from 'vitest';
import { filters, parseTopic, topics } from '../../../shared/topics.js';

describe('topic tree', () => {
  it('builds and parses every topic kind', () => {
    expect(parseTopic(topics.agentStatus('site-a', 'gw-1'))).toEqual({
      kind: 'agentStatus',
      siteId: 'site-a',
      agentId: 'gw-1',
    });
    expect(parseTopic(topics.agentHealth('site-a', 'gw-1'))?.kind).toBe('agentHealth');
    expect(parseTopic(topics.agentCommands('site-a', 'gw-1'))?.kind).toBe('agentCommands');
    expect(parseTopic(topics.deviceState('site-a', 'cam-1'))).toEqual({
      kind: 'deviceState',
      siteId: 'site-a',
      deviceId: 'cam-1',
    });
    expect(parseTopic(topics.deviceMetrics('site-a', 'cam-1'))?.kind).toBe('deviceMetrics');
  });

  it('rejects foreign and malformed topics', () => {
    expect(parseTopic('vigil/v2/site-a/devices/cam-1/state')).toBeNull();
    expect(parseTopic('vigil/v1/site-a/devices/cam-1/state/extra')).toBeNull();
    expect(parseTopic('vigil/v1/site-a/devices/cam-1/colour')).toBeNull();
    expect(parseTopic('vigil/v1/$bad/devices/cam-1/state')).toBeNull();
  });

  it('refuses to build a topic from an id with wildcards', () => {
    expect(() => topics.deviceState('site-a', 'cam/#')).toThrow(/cannot be used in an MQTT topic/);
    expect(filters.site('site-a')).toBe('vigil/v1/site-a/#');
  });
});
