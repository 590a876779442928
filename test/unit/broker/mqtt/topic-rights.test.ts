import { describe, expect, it } from 'vitest';
import { mayPublish, maySubscribe } from '../../../../broker/mqtt/topic-rights.js';
import { topics } from '../../../../shared/topics.js';

const agent = { username: 'site-a.gw-01', siteId: 'site-a', agentId: 'gw-01' };

describe('what an agent may publish', () => {
  it('its own status and health, and the state and metrics of devices of its site', () => {
    for (const topic of [
      topics.agentStatus('site-a', 'gw-01'),
      topics.agentHealth('site-a', 'gw-01'),
      topics.deviceState('site-a', 'cam-01'),
      topics.deviceMetrics('site-a', 'nvr-01'),
    ]) {
      expect(mayPublish(agent, topic), topic).toEqual({ allowed: true });
    }
  });

  it('nothing of another site', () => {
    const decision = mayPublish(agent, topics.deviceState('site-b', 'cam-01'));
    expect(decision).toEqual({
      allowed: false,
      reason: 'site "site-b" is not the agent\'s site "site-a"',
    });
    expect(mayPublish(agent, topics.agentHealth('site-b', 'gw-01')).allowed).toBe(false);
  });

  it('nothing in the name of another agent of its site', () => {
    expect(mayPublish(agent, topics.agentStatus('site-a', 'gw-02')).allowed).toBe(false);
    expect(mayPublish(agent, topics.agentHealth('site-a', 'gw-02')).allowed).toBe(false);
  });

  it('no commands, not even its own', () => {
    expect(mayPublish(agent, topics.agentCommands('site-a', 'gw-01')).allowed).toBe(false);
  });

  it('nothing outside the topic tree', () => {
    for (const topic of [
      'vigil/v2/site-a/devices/cam-01/state',
      'vigil/v1/site-a/devices/cam-01/other',
      'other',
      '$SYS/x',
    ]) {
      expect(mayPublish(agent, topic).allowed, topic).toBe(false);
    }
  });
});

describe('what an agent may subscribe to', () => {
  it('its own commands', () => {
    expect(maySubscribe(agent, topics.agentCommands('site-a', 'gw-01'))).toEqual({ allowed: true });
  });

  it("not another agent's commands, no wildcard, no $SYS", () => {
    for (const filter of [
      topics.agentCommands('site-a', 'gw-02'),
      topics.agentCommands('site-b', 'gw-01'),
      'vigil/v1/site-a/agents/+/commands',
      'vigil/v1/site-a/#',
      '#',
      '$SYS/#',
    ]) {
      expect(maySubscribe(agent, filter).allowed, filter).toBe(false);
    }
  });
});
