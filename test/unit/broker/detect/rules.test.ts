import { describe, expect, it } from 'vitest';
import { deviceExample, type Device } from '../../../../shared/api/devices.js';
import { agentHealthExample } from '../../../../shared/messages/agent-health.js';
import type { Condition } from '../../../../broker/detect/conditions.js';
import { defaultDetectConfig } from '../../../../broker/detect/config.js';
import { readdirSync } from 'node:fs';
import { FailureLog } from '../../../../broker/detect/failure-log.js';
import { detectRules } from '../../../../broker/detect/rules/index.js';
import { degradationCodes, degradationText } from '../../../../broker/detect/rules/degradations.js';
import { gatewayProblems } from '../../../../broker/detect/rules/gateway-resources.js';
import { assessMassOutage } from '../../../../broker/detect/rules/mass-outage.js';
import { say } from '../../../../shared/wording/render.js';
import { message } from '../../../../shared/wording/messages.js';
import { resolveDeskConfig } from '../../../../broker/wiring/desk-config.js';

const down = (id: string, since: number): Condition => ({
  siteId: 's',
  deviceId: id,
  agentId: 'gw',
  kind: 'camera',
  fault: 'device-down',
  condition: 'device-down:camera',
  title: message('text', { text: '' }),
  text: message('text', { text: '' }),
  since,
  heldUntil: since,
  ticketed: false,
  covers: [],
});

describe('mass outage rule', () => {
  const config = defaultDetectConfig;
  it('needs 30 % of the cameras within the window, and at least 3', () => {
    const now = 100_000;
    const three = [down('a', now), down('b', now), down('c', now)];
    expect(assessMassOutage(three, 10, false, now, config).isOutage).toBe(true);
    expect(assessMassOutage(three, 11, false, now, config).isOutage).toBe(false);
    expect(assessMassOutage(three.slice(0, 2), 4, false, now, config).isOutage).toBe(false);
  });

  it('does not start from failures spread over hours, but an active outage lasts while the share holds', () => {
    const now = 10 * 3_600_000;
    const old = [down('a', 0), down('b', 3_600_000), down('c', now)];
    expect(assessMassOutage(old, 10, false, now, config).isOutage).toBe(false);
    expect(assessMassOutage(old, 10, true, now, config)).toEqual({
      down: ['a', 'b', 'c'],
      isOutage: true,
    });
    expect(assessMassOutage(old.slice(0, 2), 10, true, now, config).isOutage).toBe(false);
  });
});

describe('flapping failure log', () => {
  it('counts failures within the window only', () => {
    const log = new FailureLog(3_600_000);
    expect(log.add('cam', 0)).toBe(1);
    expect(log.add('cam', 1_000_000)).toBe(2);
    expect(log.add('cam', 3_700_000)).toBe(2); // the first is more than an hour old
    expect(log.last('cam')).toBe(3_700_000);
  });

  it('forgets devices quiet for a whole window, and reloads what it saved', () => {
    const log = new FailureLog(3_600_000);
    log.add('a', 0);
    log.add('b', 3_000_000);
    log.prune(3_700_000);
    expect([...log.entries().keys()]).toEqual(['b']);
    const again = new FailureLog(3_600_000);
    again.load(log.entries());
    expect(again.add('b', 3_100_000)).toBe(2);
  });
});

describe('degradation rule', () => {
  const device = (patch: Partial<Device>): Device => ({ ...deviceExample, ...patch });
  it('takes every reason code of a device that is not down, except the down codes', () => {
    const codes = degradationCodes(
      device({
        status: 'degraded',
        reasons: [
          { code: 'clock-drift', message: 'ahead 600 s' },
          { code: 'picture-black', message: 'black', channel: 'ch3' },
          { code: 'timeout', message: 'slow once' },
        ],
      }),
    );
    expect([...codes]).toEqual(['clock-drift', 'picture-black']);
    expect(
      degradationCodes(device({ status: 'down', reasons: [{ code: 'clock-drift', message: '' }] }))
        .size,
    ).toBe(0);
  });

  it('names the channel of a per-channel reason', () => {
    const text = degradationText(
      device({
        status: 'degraded',
        reasons: [{ code: 'video-loss', message: 'no signal', channel: 'ch3' }],
      }),
      'video-loss',
    );
    expect(say(text)).toBe('Degraded (video loss): ch3: no signal');
  });

  it('takes refused credentials for a degradation with its own words, not for a failure', () => {
    const refused = device({
      status: 'degraded',
      reasons: [{ code: 'auth-failed', message: 'GetDeviceInformation: HTTP 401' }],
    });
    expect([...degradationCodes(refused)]).toEqual(['auth-failed']);
    expect(say(degradationText(refused, 'auth-failed'))).toMatch(
      /^Monitoring credentials rejected: GetDeviceInformation: HTTP 401\. The device answers/,
    );
  });
});

describe('gateway resources rule', () => {
  it('reports memory, disk and CPU over their thresholds', () => {
    expect(gatewayProblems(agentHealthExample, defaultDetectConfig)).toEqual([]);
    const health = {
      ...agentHealthExample,
      gateway: { cpuLoadPct: 5, memUsedPct: 97, diskUsedPct: 99.2 },
    };
    expect(gatewayProblems(health, defaultDetectConfig)).toEqual([
      { what: 'memory', pct: 97 },
      { what: 'disk', pct: 99.2 },
    ]);
    expect(
      say(
        message('title.gateway-resources', {
          agent: 'gw-01',
          problems: gatewayProblems(health, defaultDetectConfig),
        }),
      ),
    ).toBe('Site gateway gw-01 is low on resources: memory 97 % used, disk 99 % used');
  });

  it('reads CPU load as the agent measures it (whole machine, 0-100 %), after 3 busy reports in a row', () => {
    const gateway = { ...agentHealthExample.gateway, cpuLoadPct: 99 };
    const health = { ...agentHealthExample, gateway };
    expect(gatewayProblems(health, defaultDetectConfig, 1)).toEqual([]);
    const cpu = gatewayProblems(health, defaultDetectConfig, 3);
    expect(cpu).toEqual([{ what: 'cpu', pct: health.gateway.cpuLoadPct }]);
    expect(say(message('detected.gateway-resources', { problems: cpu }))).toBe(
      'Gateway resources low: CPU load 99 %',
    );
  });
});

describe('desk config', () => {
  it('merges priorities over the contract defaults; none turns a condition off', () => {
    const config = resolveDeskConfig({
      tickets: { priorities: { 'degraded:clock-drift': 'none', 'device-down:camera': 'serious' } },
      detect: { holdS: 0 },
    });
    expect(config.rules.priorities['degraded:clock-drift']).toBeNull();
    expect(config.rules.priorities['device-down:camera']).toBe('serious');
    expect(config.rules.priorities['device-down:nvr']).toBe('emergency');
    expect(config.detect).toMatchObject({ holdS: 0, massShare: 0.3, flapFailures: 3 });
    expect(config.warnShare).toBe(0.8);
  });
});

describe('the rule list', () => {
  it('runs every rule file of broker/detect/rules, each once, open-the-rest last', () => {
    const dir = new URL('../../../../broker/detect/rules/', import.meta.url);
    const files = readdirSync(dir)
      .filter((name) => name.endsWith('.ts') && !['index.ts', 'types.ts'].includes(name))
      .map((name) => name.slice(0, -3))
      .sort();
    const names = detectRules().map((rule) => rule.name);
    expect([...names].sort()).toEqual(files);
    expect(names.at(-1)).toBe('open-the-rest');
    expect(names.indexOf('maintenance')).toBe(0);
  });
});
