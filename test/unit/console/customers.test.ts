/** The customers screen's forms as the bodies the API takes (console/src/data/customers.ts). */
import { describe, expect, it } from 'vitest';
import {
  contractFromForm,
  customerCreateFromForm,
  customerPatchFromForm,
} from '../../../console/src/data/customers.js';
import { CustomerCreate, CustomerPatch } from '../../../shared/api/customers.js';
import { validator } from '../../../shared/validate.js';

const form = (fields: Record<string, string>) => {
  const data = new FormData();
  for (const [key, value] of Object.entries(fields)) data.set(key, value);
  return data;
};

describe('customer forms', () => {
  it('sends the deadlines filled, null for an emptied on-site or resolution one', () => {
    expect(
      contractFromForm(
        form({
          'emergency.respondMin': '5',
          'emergency.onSiteMin': '90',
          'emergency.resolveMin': '240',
          'general.respondMin': '120',
          'general.onSiteMin': '',
        }),
      ),
    ).toEqual({
      sla: {
        emergency: { respondMin: 5, onSiteMin: 90, resolveMin: 240 },
        general: { respondMin: 120, onSiteMin: null },
      },
    });
    expect(contractFromForm(form({}))).toEqual({});
  });

  it('makes bodies the API schemas take', () => {
    const create = customerCreateFromForm(
      form({ id: 'acme', name: ' Acme ', timeZone: 'Europe/Berlin', locale: 'en' }),
    );
    expect(create).toEqual({ id: 'acme', name: 'Acme', timeZone: 'Europe/Berlin', locale: 'en' });
    expect(validator(CustomerCreate)(create).ok).toBe(true);
    const patch = customerPatchFromForm(
      form({
        name: 'Acme',
        timeZone: 'Asia/Shanghai',
        locale: 'zh-CN',
        'serious.respondMin': '15',
      }),
    );
    expect(patch.contract).toEqual({ sla: { serious: { respondMin: 15 } } });
    expect(validator(CustomerPatch)(patch).ok).toBe(true);
  });
});
