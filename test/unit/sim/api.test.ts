import { describe, expect, it } from 'vitest';
import {
  SimDevice,
  SimDeviceList,
  simDeviceExample,
  SimFault,
  simFaultExamples,
  simRoutes,
} from '../../../shared/api/sim.js';
import { validator } from '../../../shared/validate.js';

describe('control API schemas (shared/api/sim.ts)', () => {
  it('the SimDevice example passes its schema, alone and in a list', () => {
    expect(validator(SimDevice)(simDeviceExample)).toEqual({ ok: true, value: simDeviceExample });
    expect(validator(SimDeviceList)([simDeviceExample]).ok).toBe(true);
  });

  it('every fault example passes SimFault', () => {
    const check = validator(SimFault);
    for (const example of simFaultExamples) expect(check(example).ok).toBe(true);
  });

  it('SimFault refuses unknown kinds and extra fields', () => {
    const check = validator(SimFault);
    expect(check({ kind: 'meltdown' }).ok).toBe(false);
    expect(check({ kind: 'offline', forMs: 10 }).ok).toBe(false);
    expect(check('offline').ok).toBe(false);
  });

  it('a SimDevice never carries a password field', () => {
    const result = validator(SimDevice)({ ...simDeviceExample, password: 'x' });
    expect(result.ok).toBe(false);
  });

  it('builds the routes', () => {
    expect(simRoutes.device('cam-01')).toBe('/sim/devices/cam-01');
    expect(simRoutes.faults('nvr-02')).toBe('/sim/devices/nvr-02/faults');
  });
});
