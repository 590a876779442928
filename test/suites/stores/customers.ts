/**
 * The conformance suite of the customers and their contracts (broker/customers/store.ts),
 * run on SQLite and on PostgreSQL (test/suites/stores/backends.ts): the ticket desk reads
 * a site's deadlines, zone and language from them, so what one node writes must come back
 * exactly, on the other node too.
 */
import { expect, it } from 'vitest';
import { CustomerStore, slugOf, templateContract } from '../../../broker/customers/store.js';
import { SiteStore } from '../../../broker/sites/store.js';
import type { SqlDatabase } from '../../../broker/sql/types.js';
import { defaultSla, type SlaTable } from '../../../broker/tickets/types.js';
import { VigilError } from '../../../shared/errors.js';
import type { StoreBackend } from './backends.js';

/** The two stores wired as broker/wiring/desk.ts wires them, started in its order. */
export async function customerStores(db: SqlDatabase, sla: SlaTable = defaultSla) {
  const customers: CustomerStore = new CustomerStore(db, {
    sla,
    sites: {
      customerIdOf: (siteId) => sites.customerIdOf(siteId),
      sitesOf: (customerId) => sites.sitesOf(customerId),
    },
  });
  const sites: SiteStore = new SiteStore(db, {
    nameOf: (id) => customers.nameOf(id),
    named: (name) => customers.named(name),
  });
  await customers.start();
  await sites.start();
  return { customers, sites };
}

export async function refusal(run: () => Promise<unknown>): Promise<VigilError> {
  try {
    await run();
  } catch (error) {
    if (error instanceof VigilError) return error;
    throw error;
  }
  throw new Error('expected a refusal');
}

/** The sites table as version 1 of the sites component wrote it (before customers). */
const sitesV1 = (real: string) => `
  CREATE TABLE sites (id TEXT PRIMARY KEY, name TEXT NOT NULL DEFAULT '',
    customer TEXT NOT NULL DEFAULT '', accepted_on TEXT,
    retention_goal_days ${real} NOT NULL DEFAULT 30);
  CREATE TABLE site_devices (site_id TEXT NOT NULL, device_id TEXT NOT NULL,
    criticality TEXT NOT NULL DEFAULT 'normal' CHECK (criticality IN ('high', 'normal', 'low')),
    recorder_id TEXT, accepted_on TEXT, warranty_ends_on TEXT, replaced_on TEXT,
    PRIMARY KEY (site_id, device_id));`;

export function customerStoreSuite(backend: StoreBackend): void {
  it('creates a customer with the contract of the commitments page by default', async () => {
    const { customers } = await customerStores(await backend.open());
    const made = await customers.create({ id: 'acme', name: 'Acme Security' });
    expect(made).toMatchObject({
      id: 'acme',
      name: 'Acme Security',
      contacts: [],
      locale: 'zh-CN',
      timeZone: 'Asia/Shanghai',
      contractIsTemplate: true,
      sites: [],
    });
    // The template is the ticket desk's own default table, not a copy of its numbers.
    expect(made.contract.sla).toEqual(defaultSla);
    expect(made.contract).toMatchObject({
      serviceHours: '7x24',
      inspections: { monthly: true, quarterly: true },
      warrantyYears: 3,
      spareParts: { stockedHours: 2, unstockedHours: 8 },
    });
    expect(customers.list().map((c) => c.id)).toEqual(['acme']);
    expect(customers.get('nobody')).toBeUndefined();
  });

  it("follows the broker's deadlines until it sets its own, then keeps them", async () => {
    const sla: SlaTable = { ...defaultSla, emergency: { ...defaultSla.emergency, respondMin: 5 } };
    const { customers, sites } = await customerStores(await backend.open(), sla);
    await customers.create({ id: 'acme', name: 'Acme' });
    await sites.put('north', { customerId: 'acme' });
    expect(customers.slaOf('north').emergency.respondMin).toBe(5);
    expect(customers.slaOf('no-customer')).toBe(sla);

    const changed = await customers.patch('acme', {
      contract: { sla: { emergency: { onSiteMin: 90 } }, warrantyYears: 5 },
    });
    expect(changed.contractIsTemplate).toBe(false);
    expect(changed.contract.sla.emergency).toEqual({ ...sla.emergency, onSiteMin: 90 });
    expect(changed.contract.warrantyYears).toBe(5);
    expect(customers.slaOf('north').emergency).toMatchObject({ respondMin: 5, onSiteMin: 90 });
    // The rest stays as it was.
    expect(changed.contract.spareParts).toEqual(templateContract().spareParts);
  });

  it('refuses an unknown zone, an abbreviation, a bad phone, and says what to send', async () => {
    const { customers } = await customerStores(await backend.open());
    const zone = await refusal(() =>
      customers.create({ id: 'a', name: 'A', timeZone: 'Mars/Olympus' }),
    );
    expect(zone.code).toBe('VIGIL_BAD_REQUEST');
    expect(zone.details.join('\n')).toMatch(/timeZone: "Mars\/Olympus".*Asia\/Shanghai/);
    const cst = await refusal(() => customers.create({ id: 'a', name: 'A', timeZone: 'CST' }));
    expect(cst.details.join('\n')).toMatch(/CST is Chicago/);
    const phone = await refusal(() =>
      customers.create({ id: 'a', name: 'A', contacts: [{ name: '王芳', phone: '12345' }] }),
    );
    expect(phone.details).toEqual([expect.stringMatching(/^contacts\/0\/phone: .*11 digits/)]);
    const order = await refusal(() =>
      customers.create({ id: 'a', name: 'A', contract: { sla: { general: { respondMin: 600 } } } }),
    );
    expect(order.details.join('\n')).toMatch(/contract\/sla\/general/);
    expect(customers.list()).toEqual([]);

    const ok = await customers.create({
      id: 'a',
      name: 'A',
      timeZone: 'Europe/Berlin',
      locale: 'en',
      contacts: [{ name: '王芳', phone: '+86 138-0013-8000', email: 'wang@example.com' }],
    });
    expect(ok.contacts).toEqual([
      { name: '王芳', phone: '13800138000', email: 'wang@example.com' },
    ]);
    expect((await refusal(() => customers.patch('a', { timeZone: 'Berlin' }))).code).toBe(
      'VIGIL_BAD_REQUEST',
    );
    expect(customers.get('a')?.timeZone).toBe('Europe/Berlin');
  });

  it('refuses a second customer of the same id or name (on-call coverage keys by name)', async () => {
    const { customers } = await customerStores(await backend.open());
    await customers.create({ id: 'acme', name: 'Acme Ltd' });
    expect((await refusal(() => customers.create({ id: 'acme', name: 'Other' }))).code).toBe(
      'VIGIL_CONFLICT',
    );
    expect(
      (await refusal(() => customers.create({ id: 'acme-2', name: ' acme  LTD ' }))).message,
    ).toMatch(/acme has the name/);
    expect((await refusal(() => customers.patch('nobody', { name: 'X' }))).code).toBe(
      'VIGIL_NOT_FOUND',
    );
  });

  it('links sites to customers, answers their name, and follows a rename', async () => {
    const { customers, sites } = await customerStores(await backend.open());
    await customers.create({ id: 'acme', name: 'Acme', timeZone: 'Europe/Berlin' });
    expect(await sites.put('north', { customerId: 'acme' })).toMatchObject({
      customer: 'Acme',
      customerId: 'acme',
    });
    expect(customers.forSite('north')?.id).toBe('acme');
    expect(customers.forSite('south')).toBeNull();
    expect(customers.timeZoneOf('north')).toBe('Europe/Berlin');
    expect(customers.timeZoneOf('south')).toBe('Asia/Shanghai');
    expect(customers.get('acme')?.sites).toEqual(['north']);

    await customers.patch('acme', { name: 'Acme Group' });
    expect(sites.get('north').customer).toBe('Acme Group');
    expect(sites.customerOf('north')).toBe('Acme Group');

    const unknown = await refusal(() => sites.put('north', { customerId: 'ghost' }));
    expect(unknown.code).toBe('VIGIL_BAD_REQUEST');
    expect(unknown.details[0]).toMatch(/customerId: no customer "ghost".*POST \/api\/customers/);

    // The older text field: the customer of that name, made when there is none.
    expect((await sites.put('south', { customer: 'acme group' })).customerId).toBe('acme');
    expect(await sites.put('east', { customer: 'Beta Corp' })).toMatchObject({
      customer: 'Beta Corp',
      customerId: 'beta-corp',
    });
    expect(await sites.put('east', { customerId: null })).toMatchObject({
      customer: '',
      customerId: null,
    });
    // A change of another field keeps the customer.
    expect((await sites.put('north', { retentionGoalDays: 60 })).customerId).toBe('acme');
  });

  it("a customer's deadlines, zone, language and contacts come back exactly through another connection", async () => {
    const db = await backend.open();
    const { customers, sites } = await customerStores(db);
    const written = await customers.create({
      id: 'hua-an',
      name: '华安物流有限公司',
      timeZone: 'America/St_Johns', // UTC-3:30: a half-hour zone, not a rounded one
      locale: 'en',
      contacts: [{ name: '王芳', phone: '13800138000', email: 'wang@example.com', role: '值班' }],
      contract: {
        sla: {
          emergency: { respondMin: 7, onSiteMin: 95, resolveMin: 241 },
          general: { respondMin: 60, onSiteMin: null, resolveMin: null },
        },
        inspections: { monthly: false, quarterly: true },
        warrantyYears: 5,
        spareParts: { stockedHours: 1.5, unstockedHours: 10 },
      },
    });
    await sites.put('plant-9', { customerId: 'hua-an' });

    const other = await customerStores(await backend.reopen(db));
    expect(other.customers.get('hua-an')).toEqual({ ...written, sites: ['plant-9'] });
    expect(other.customers.slaOf('plant-9')).toEqual(written.contract.sla);
    expect(other.customers.timeZoneOf('plant-9')).toBe('America/St_Johns');
    expect(other.customers.forSite('plant-9')?.locale).toBe('en');
    expect(other.sites.get('plant-9')).toMatchObject({ customer: '华安物流有限公司' });

    // A change on this node reaches the other after its reload (a takeover).
    await customers.patch('hua-an', { timeZone: 'Asia/Kolkata', locale: 'zh-CN' });
    expect(other.customers.timeZoneOf('plant-9')).toBe('America/St_Johns');
    await other.customers.reload();
    expect(other.customers.forSite('plant-9')).toMatchObject({
      timeZone: 'Asia/Kolkata',
      locale: 'zh-CN',
    });
  });

  it('lists customers by name the same way on both engines (code points, not the locale)', async () => {
    const { customers } = await customerStores(await backend.open());
    for (const [id, name] of <[string, string][]>[
      ['zeta', 'zeta'],
      ['beta', 'Beta'],
      ['shanghai', '上海某物流有限公司'],
      ['alpha', 'alpha'],
    ])
      await customers.create({ id, name });
    expect(customers.list().map((c) => c.id)).toEqual(['alpha', 'beta', 'zeta', 'shanghai']);
  });

  it('turns each distinct free-text customer of an older version into a customer and links its sites', async () => {
    const db = await backend.open();
    await db.migrate('sites', [
      { version: 1, sqlite: sitesV1('REAL'), postgres: sitesV1('DOUBLE PRECISION') },
    ]);
    await db.run(`INSERT INTO sites (id, name, customer) VALUES
        ('north', 'North depot', 'Acme, Inc.'),
        ('south', 'South depot', 'acme,  inc.'),
        ('plant', 'Plant', '上海某物流有限公司'),
        ('lab', 'Lab', '')`);

    const { customers, sites } = await customerStores(db);
    expect(customers.list().map((c) => [c.id, c.name, c.sites])).toEqual([
      ['acme-inc', 'Acme, Inc.', ['north', 'south']],
      [slugOf('上海某物流有限公司'), '上海某物流有限公司', ['plant']],
    ]);
    expect(customers.get('acme-inc')).toMatchObject({
      timeZone: 'Asia/Shanghai',
      locale: 'zh-CN',
      contractIsTemplate: true,
    });
    // The old field still answers the name: the console and on-call coverage read it.
    expect(sites.get('south')).toMatchObject({ customer: 'Acme, Inc.', customerId: 'acme-inc' });
    expect(sites.customerOf('plant')).toBe('上海某物流有限公司');
    expect(sites.get('lab')).toMatchObject({ customer: '', customerId: null });

    // A second start (the other node) finds nothing left to do.
    const again = await customerStores(await backend.reopen(db));
    expect(again.customers.list()).toHaveLength(2);
  });
}
