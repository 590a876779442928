/**
 * The gateway adapter's temperature from the file the agent config names
 * (`gateway.temperatureFile`): millidegrees Celsius as Linux thermal zones and hwmon write
 * them; a missing or foreign file gives no temperature and one warning, never an old or
 * invented reading.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Gateway, parseMillidegrees } from '../../../agent/gateway.js';
import { MemoryLogger } from '../../../agent/log.js';
import { tempDir, type TempDir } from '../../helpers/temp.js';

let dir: TempDir | null = null;
afterEach(async () => {
  await dir?.remove();
  dir = null;
});

describe('gateway temperature file', () => {
  it('reads millidegrees Celsius as the kernel writes them', () => {
    expect(parseMillidegrees('45000\n')).toBe(45);
    expect(parseMillidegrees('91500')).toBe(91.5);
    expect(parseMillidegrees('-5250\n')).toBe(-5.25);
    expect(() => parseMillidegrees('45.0')).toThrow(/not millidegrees Celsius/);
    expect(() => parseMillidegrees('')).toThrow(/not millidegrees Celsius/);
    expect(() => parseMillidegrees('temp1: 45 C')).toThrow(/not millidegrees Celsius/);
  });

  it('reads whole degrees as some vendor files give them, not as 0.045 °C', async () => {
    expect(parseMillidegrees('45\n')).toBe(45);
    expect(parseMillidegrees('92')).toBe(92);
    expect(parseMillidegrees('-12')).toBe(-12);
    expect(parseMillidegrees('199')).toBe(199);
    expect(parseMillidegrees('200')).toBe(0.2);
    // A file known to give millidegrees keeps its small numbers millidegrees.
    expect(parseMillidegrees('150', true)).toBe(0.15);
    dir = await tempDir('vigil-gateway-temp-');
    const file = join(dir.path, 'temp');
    const gateway = new Gateway(dir.path, new MemoryLogger(), () => file);
    await writeFile(file, '85\n');
    expect((await gateway.sample()).temperatureC).toBe(85);
    // The same box later writing millidegrees (another driver loaded): from then on, so.
    await writeFile(file, '1500\n');
    expect((await gateway.sample()).temperatureC).toBe(1.5);
    await writeFile(file, '100\n');
    expect((await gateway.sample()).temperatureC).toBe(0.1);
  });

  it("reports the named file's temperature instead of the sensor found, following a reload", async () => {
    dir = await tempDir('vigil-gateway-temp-');
    const first = join(dir.path, 'zone0');
    const second = join(dir.path, 'zone1');
    await writeFile(first, '83250\n');
    await writeFile(second, '41000\n');
    let file = first;
    const log = new MemoryLogger();
    const gateway = new Gateway(dir.path, log, () => file);
    expect((await gateway.sample()).temperatureC).toBe(83.3);
    await writeFile(first, '79000\n');
    expect((await gateway.sample()).temperatureC).toBe(79);
    file = second;
    expect((await gateway.sample()).temperatureC).toBe(41);
    expect(log.lines).toEqual([]);
  });

  it('a missing or foreign file gives no temperature and one warning naming it', async () => {
    dir = await tempDir('vigil-gateway-temp-');
    const file = join(dir.path, 'temp');
    await writeFile(file, '88000\n');
    const log = new MemoryLogger();
    const gateway = new Gateway(dir.path, log, () => file);
    expect((await gateway.sample()).temperatureC).toBe(88);
    await writeFile(file, 'hot\n');
    const stats = await gateway.sample();
    // The last reading is not kept: an old 88 °C would hold a heat alert open.
    expect(stats.temperatureC).toBeUndefined();
    expect(stats.memUsedPct).toBeGreaterThan(0);
    expect((await gateway.sample()).temperatureC).toBeUndefined();
    const warnings = log.lines.filter((l) => l.level === 'warn');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.message).toMatch(
      /cannot read the temperature in .*temp \(Error: "hot" is not millidegrees.*check gateway\.temperatureFile/,
    );
  });
});
