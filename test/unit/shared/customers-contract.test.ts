import { describe, expect, it } from 'vitest';
import {
  Customer,
  CustomerCreate,
  customerExample,
  CustomerPatch,
} from '../../../shared/api/customers.js';
import { Site, siteExample } from '../../../shared/api/sites.js';
import { validator } from '../../../shared/validate.js';

describe('customer schemas', () => {
  it('the examples pass their schemas', () => {
    expect(validator(Customer)(customerExample).ok).toBe(true);
    expect(validator(Site)(siteExample).ok).toBe(true);
    // A site record of a version before customers has no customerId and still reads.
    const { customerId: _gone, ...older } = siteExample;
    expect(validator(Site)(older).ok).toBe(true);
  });

  it('a new customer needs an id and a name; only 7x24 service hours', () => {
    const create = validator(CustomerCreate);
    expect(create({ id: 'acme', name: 'Acme', timeZone: 'Asia/Shanghai', locale: 'en' }).ok).toBe(
      true,
    );
    const bad = create({ name: 'Acme', contract: { serviceHours: '5x8' } });
    expect(bad.ok).toBe(false);
    if (bad.ok) return;
    expect(bad.errors.join('\n')).toMatch(/id/);
    expect(bad.errors.join('\n')).toMatch(/serviceHours/);
  });

  it('a change names no id and nothing unknown; a contract may change one number', () => {
    const patch = validator(CustomerPatch);
    expect(patch({ contract: { sla: { emergency: { respondMin: 5 } } } }).ok).toBe(true);
    expect(patch({ id: 'other' }).ok).toBe(false);
    expect(patch({ contract: { sla: { urgent: { respondMin: 5 } } } }).ok).toBe(false);
  });
});
