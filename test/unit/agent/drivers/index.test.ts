/**
 * The drivers' lists (STYLE habit 2): every check a driver folder exports is in its
 * driver's list, and that driver is in agent/drivers/index.ts, so its checks run after the
 * ONVIF checks (agent/checks/index.ts); and which driver a device gets.
 */
import { readdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { checks } from '../../../../agent/checks/index.js';
import { chooseDriver, driverChecks, drivers } from '../../../../agent/drivers/index.js';
import { isDriverCheck, type DriverCheck } from '../../../../agent/drivers/types.js';

const DRIVERS_DIR = fileURLToPath(new URL('../../../../agent/drivers/', import.meta.url));

function isCheckLike(value: unknown): value is DriverCheck {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as DriverCheck).name === 'string' &&
    typeof (value as DriverCheck).run === 'function' &&
    isDriverCheck(value as DriverCheck)
  );
}

describe('the lists of driver checks', () => {
  it("holds every check of every driver folder, in its driver's list, each once", async () => {
    const folders = (await readdir(DRIVERS_DIR, { withFileTypes: true })).filter((e) =>
      e.isDirectory(),
    );
    expect(folders.map((f) => f.name)).toContain('hikvision');
    for (const folder of folders) {
      const dir = `${DRIVERS_DIR}${folder.name}/`;
      for (const file of (await readdir(dir)).filter((f) => f.endsWith('.ts'))) {
        const module = (await import(`${dir}${file}`)) as Record<string, unknown>;
        for (const check of Object.values(module).filter(isCheckLike)) {
          const driver = drivers.find((d) => d.name === check.driver);
          expect(
            driver,
            `${folder.name}/${file}: driver "${check.driver}" is not in drivers/index.ts`,
          ).toBeDefined();
          expect(
            driver!.checks,
            `${folder.name}/${file}: "${check.name}" is missing from its driver's list`,
          ).toContain(check);
        }
      }
    }
    const names = driverChecks.map((c) => c.name);
    expect(
      new Set([...names, ...checks.filter((c) => !isDriverCheck(c)).map((c) => c.name)]).size,
    ).toBe(checks.length);
  });

  it('runs them after every ONVIF check', () => {
    const first = checks.findIndex(isDriverCheck);
    expect(first).toBeGreaterThan(0);
    expect(checks.slice(first).every(isDriverCheck)).toBe(true);
    expect(checks.slice(first)).toEqual(driverChecks);
  });
});

describe('the driver of a device', () => {
  it('is the configured one, whatever the manufacturer', () => {
    expect(chooseDriver('onvif', 'HIKVISION')).toBe('onvif');
    expect(chooseDriver('hikvision', 'LTS')).toBe('hikvision');
    expect(chooseDriver('hikvision', undefined)).toBe('hikvision');
  });

  it('is recognised from the manufacturer Hikvision firmware reports', () => {
    for (const name of [
      'HIKVISION',
      'Hikvision',
      'hikvision',
      'Hikvision Digital Technology Co., Ltd',
      'HiWatch',
    ]) {
      expect(chooseDriver(undefined, name), name).toBe('hikvision');
    }
  });

  it('is ONVIF only for anyone else, and before the identity is known', () => {
    for (const name of ['AXIS', 'Bosch', 'LTS', 'Hik-Connect OEM', 'Uniview', '']) {
      expect(chooseDriver(undefined, name), name).not.toBe('hikvision');
    }
    expect(chooseDriver(undefined, undefined)).toBe('onvif');
  });
});
