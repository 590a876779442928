import { mkdir, writeFile } from 'node:fs/promises';
import os, { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { diskUsedPct, findCpuSensor, Gateway } from '../../../agent/gateway.js';
import { MemoryLogger } from '../../../agent/log.js';
import { contract } from '../../../shared/contract.js';
import { validator } from '../../../shared/validate.js';
import { tempDir, type TempDir } from '../../helpers/temp.js';

let dir: TempDir | null = null;
afterEach(async () => {
  await dir?.remove();
  dir = null;
});

/** Writes `files` (path below root: content) as a sysfs tree of the same shape. */
async function tree(root: string, files: Record<string, string>): Promise<void> {
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), content);
  }
}

describe('gateway health', () => {
  it('measures the disk of the data folder, or of its nearest parent before it exists', async () => {
    const here = await diskUsedPct(tmpdir());
    expect(here).toBeGreaterThan(0);
    expect(here).toBeLessThanOrEqual(100);
    expect(await diskUsedPct(join(tmpdir(), 'not-yet', 'spool'))).toBe(here);
  });

  it('finds the CPU sensor as the kernel names it: a package label, a CPU chip, a CPU thermal zone', async () => {
    dir = await tempDir('vigil-sysfs-');
    const sys = dir.path;
    expect(await findCpuSensor(sys)).toBeUndefined();
    // A thermal zone of the SoC, behind an ACPI zone that is not the CPU.
    await tree(sys, {
      'class/thermal/thermal_zone0/type': 'acpitz\n',
      'class/thermal/thermal_zone0/temp': '27800\n',
      'class/thermal/thermal_zone1/type': 'x86_pkg_temp\n',
      'class/thermal/thermal_zone1/temp': '52000\n',
    });
    expect(await findCpuSensor(sys)).toBe(join(sys, 'class/thermal/thermal_zone1/temp'));
    // A hwmon chip without labels (cpu_thermal of ARM boards) comes before thermal zones.
    await tree(sys, {
      'class/hwmon/hwmon1/name': 'cpu_thermal\n',
      'class/hwmon/hwmon1/temp1_input': '61000\n',
    });
    expect(await findCpuSensor(sys)).toBe(join(sys, 'class/hwmon/hwmon1/temp1_input'));
    // coretemp's package label beats its cores and the disk's sensor.
    await tree(sys, {
      'class/hwmon/hwmon0/name': 'nvme\n',
      'class/hwmon/hwmon0/temp1_label': 'Composite\n',
      'class/hwmon/hwmon0/temp1_input': '38000\n',
      'class/hwmon/hwmon0a/name': 'coretemp\n',
      'class/hwmon/hwmon0a/temp1_label': 'Core 0\n',
      'class/hwmon/hwmon0a/temp2_label': 'Package id 0\n',
      'class/hwmon/hwmon0a/temp2_input': '71000\n',
    });
    expect(await findCpuSensor(sys)).toBe(join(sys, 'class/hwmon/hwmon0a/temp2_input'));
    const stats = await new Gateway(tmpdir(), new MemoryLogger(), () => undefined, sys).sample();
    expect(stats.temperatureC).toBe(71);
  });

  it('lists every interface but loopback, an unplugged one as down', async () => {
    dir = await tempDir('vigil-sysfs-');
    const sys = dir.path;
    await tree(sys, {
      'class/net/lo/operstate': 'unknown\n',
      'class/net/eth0/operstate': 'up\n',
      'class/net/eth1/operstate': 'down\n',
    });
    const stats = await new Gateway(tmpdir(), new MemoryLogger(), () => undefined, sys).sample();
    expect(stats.interfaces?.map((i) => [i.name, i.up])).toEqual([
      ['eth0', true],
      ['eth1', false],
    ]);
    expect(stats.temperatureC).toBeUndefined();
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
    expect(log.lines).toEqual([]);
  });

  it('measures CPU load between samples, up while the CPU is busy', async () => {
    const gateway = new Gateway(tmpdir(), new MemoryLogger());
    await gateway.sample();
    const until = Date.now() + 300;
    while (Date.now() < until) Math.sqrt(Math.random());
    const busy = await gateway.sample();
    // This process alone kept one core busy for 300 ms.
    expect(busy.cpuLoadPct).toBeGreaterThanOrEqual(Math.min(90, 100 / os.cpus().length) * 0.8);
  });
});
