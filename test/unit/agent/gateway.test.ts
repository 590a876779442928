import { tmpdir } from 'node:os';
import { describe, expect, it } from 'vitest';
import { Gateway, mountOf } from '../../../agent/gateway.js';
import { MemoryLogger } from '../../../agent/log.js';
import { contract } from '../../../shared/contract.js';
import { validator } from '../../../shared/validate.js';

describe('gateway health', () => {
  it('finds the filesystem that holds the data folder', () => {
    const mounts = [
      { mount: '/' },
      { mount: '/var' },
      { mount: '/var/lib/vigil' },
      { mount: '/var/lib/vigil2' },
    ];
    expect(mountOf(mounts, '/var/lib/vigil/spool')?.mount).toBe('/var/lib/vigil');
    expect(mountOf(mounts, '/var/lib/vigil')?.mount).toBe('/var/lib/vigil');
    expect(mountOf(mounts, '/var/lib/vigilant')?.mount).toBe('/var');
    expect(mountOf(mounts, '/home/x')?.mount).toBe('/');
    expect(mountOf([], '/x')).toBeUndefined();
  });

  it('reads this machine within the ranges AgentHealth allows', async () => {
    const log = new MemoryLogger();
    const stats = await new Gateway(tmpdir(), log).sample();
    const check = validator(contract.agentHealth.schema);
    const health = {
      ...contract.agentHealth.examples[0]!,
      gateway: stats,
    };
    expect(check(health)).toMatchObject({ ok: true });
    expect(stats.memUsedPct).toBeGreaterThan(0);
    expect(stats.diskUsedPct).toBeGreaterThan(0);
  });
});
