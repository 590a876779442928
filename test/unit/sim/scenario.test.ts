import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadScenario, parseScenario, resolveSiteFile } from '../../../sim/scenario.js';

describe('site files', () => {
  it('demo.yaml: 24 cameras, 2 NVRs of 16 channels, faults that come and go', () => {
    const result = loadScenario('sim/scenarios/demo.yaml');
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    const { devices, timedFaults, siteId } = result.scenario;
    expect(siteId).toBe('demo-site');
    expect(devices.filter((d) => d.kind === 'camera')).toHaveLength(24);
    expect(devices.filter((d) => d.kind === 'nvr').map((d) => d.channels)).toEqual([16, 16]);
    expect(timedFaults.map((f) => f.fault.kind)).toEqual(
      expect.arrayContaining(['offline', 'flapping', 'clock-drift']),
    );
    expect(timedFaults.some((f) => f.everyS !== undefined && f.fault.durationS !== undefined)).toBe(
      true,
    );
  });

  it('calm.yaml: the same layout without timed faults', () => {
    const demo = loadScenario('demo');
    const calm = loadScenario('calm');
    expect(calm.ok && demo.ok).toBe(true);
    if (!calm.ok || !demo.ok) return;
    expect(calm.scenario.devices).toEqual(demo.scenario.devices);
    expect(calm.scenario.timedFaults).toEqual([]);
  });

  it('finds a bare name and a repository-relative path', () => {
    expect(resolveSiteFile('calm')).toMatch(/sim\/scenarios\/calm\.yaml$/);
    expect(resolveSiteFile('nope.yaml')).toBeNull();
    expect(readFileSync(resolveSiteFile('sim/scenarios/demo.yaml') ?? '', 'utf8')).toContain(
      'site: demo-site',
    );
  });

  it('reports every error with its path', () => {
    const result = parseScenario(
      [
        'site: a/b',
        'devices:',
        '  - kind: camera',
        '    count: 2',
        '    personality: grumpy',
        '  - kind: nvr',
        '    channels: 4',
        'faults:',
        '  - device: cam-09',
        '    fault: { kind: offline }',
        '  - device: nvr-01',
        '    fault: { kind: video-loss, channel: 9 }',
        '  - device: cam-01',
        '    fault: { kind: clock-drift }',
      ].join('\n'),
    );
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^site: /),
        expect.stringMatching(/^devices\/0\/personality: must be one of "standard"/),
      ]),
    );
    const semantic = parseScenario(
      [
        'site: s',
        'devices:',
        '  - kind: nvr',
        '    channels: 4',
        'faults:',
        '  - device: cam-09',
        '    fault: { kind: offline }',
        '  - device: nvr-01',
        '    fault: { kind: video-loss, channel: 9 }',
        '  - device: nvr-01',
        '    fault: { kind: clock-drift }',
      ].join('\n'),
    );
    expect(semantic).toEqual({
      ok: false,
      errors: [
        expect.stringMatching(/^faults\/0\/device: no device "cam-09"/),
        'faults/1/fault/channel: nvr-01 has 4 channel(s)',
        expect.stringMatching(/^faults\/2\/fault: .*offsetS/),
      ],
    });
  });

  it('reports a YAML syntax error with its line', () => {
    const result = parseScenario('site: s\ndevices: [\n');
    expect(result).toMatchObject({ ok: false, errors: [expect.stringMatching(/^line \d+/)] });
  });
});
