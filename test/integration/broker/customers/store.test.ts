/**
 * The customer store on a real SQLite file: customers and their contracts, sites that
 * belong to them, and the upgrade of a file written by a version whose sites named their
 * customer in free text.
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CustomerStore, slugOf, templateContract } from '../../../../broker/customers/store.js';
import { openDatabase, type Db } from '../../../../broker/db.js';
import { SiteStore } from '../../../../broker/sites/store.js';
import { defaultSla, type SlaTable } from '../../../../broker/tickets/types.js';
import { VigilError } from '../../../../shared/errors.js';
import { tempDir, type TempDir } from '../../../helpers/temp.js';

/** The two stores wired as broker/wiring/desk.ts wires them. */
function stores(db: Db, sla: SlaTable = defaultSla) {
  const customers: CustomerStore = new CustomerStore(db, {
    sla,
    sites: {
      customerIdOf: (siteId) => sites.customerIdOf(siteId),
      sitesOf: (customerId) => sites.sitesOf(customerId),
    },
  });
  customers.start();
  const sites: SiteStore = new SiteStore(db, {
    nameOf: (id) => customers.nameOf(id),
    named: (name) => customers.named(name),
  });
  sites.start();
  return { customers, sites };
}

function refusal(run: () => unknown): VigilError {
  try {
    run();
  } catch (error) {
    if (error instanceof VigilError) return error;
    throw error;
  }
  throw new Error('expected a refusal');
}

describe('customer store', () => {
  let dir: TempDir;
  let db: Db;

  beforeEach(async () => {
    dir = await tempDir('vigil-customers-');
    db = openDatabase(join(dir.path, 'vigil.db'));
  });
  afterEach(async () => {
    db.close();
    await dir.remove();
  });

  it('creates a customer with the contract of the commitments page by default', () => {
    const { customers } = stores(db);
    const made = customers.create({ id: 'acme', name: 'Acme Security' });
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

  it("follows the broker's deadlines until it sets its own, then keeps them", () => {
    const sla: SlaTable = { ...defaultSla, emergency: { ...defaultSla.emergency, respondMin: 5 } };
    const { customers, sites } = stores(db, sla);
    customers.create({ id: 'acme', name: 'Acme' });
    sites.put('north', { customerId: 'acme' });
    expect(customers.slaOf('north').emergency.respondMin).toBe(5);
    expect(customers.slaOf('no-customer')).toBe(sla);

    const changed = customers.patch('acme', {
      contract: { sla: { emergency: { onSiteMin: 90 } }, warrantyYears: 5 },
    });
    expect(changed.contractIsTemplate).toBe(false);
    expect(changed.contract.sla.emergency).toEqual({ ...sla.emergency, onSiteMin: 90 });
    expect(changed.contract.warrantyYears).toBe(5);
    expect(customers.slaOf('north').emergency).toMatchObject({ respondMin: 5, onSiteMin: 90 });
    // The rest stays as it was.
    expect(changed.contract.spareParts).toEqual(templateContract().spareParts);
  });

  it('refuses an unknown zone, an abbreviation, a bad phone, and says what to send', () => {
    const { customers } = stores(db);
    const zone = refusal(() => customers.create({ id: 'a', name: 'A', timeZone: 'Mars/Olympus' }));
    expect(zone.code).toBe('VIGIL_BAD_REQUEST');
    expect(zone.details.join('\n')).toMatch(/timeZone: "Mars\/Olympus".*Asia\/Shanghai/);
    const cst = refusal(() => customers.create({ id: 'a', name: 'A', timeZone: 'CST' }));
    expect(cst.details.join('\n')).toMatch(/CST is Chicago/);
    const phone = refusal(() =>
      customers.create({ id: 'a', name: 'A', contacts: [{ name: '王芳', phone: '12345' }] }),
    );
    expect(phone.details).toEqual([expect.stringMatching(/^contacts\/0\/phone: .*11 digits/)]);
    const order = refusal(() =>
      customers.create({ id: 'a', name: 'A', contract: { sla: { general: { respondMin: 600 } } } }),
    );
    expect(order.details.join('\n')).toMatch(/contract\/sla\/general/);
    expect(customers.list()).toEqual([]);

    const ok = customers.create({
      id: 'a',
      name: 'A',
      timeZone: 'Europe/Berlin',
      locale: 'en',
      contacts: [{ name: '王芳', phone: '+86 138-0013-8000', email: 'wang@example.com' }],
    });
    expect(ok.contacts).toEqual([
      { name: '王芳', phone: '13800138000', email: 'wang@example.com' },
    ]);
    expect(refusal(() => customers.patch('a', { timeZone: 'Berlin' })).code).toBe(
      'VIGIL_BAD_REQUEST',
    );
    expect(customers.get('a')?.timeZone).toBe('Europe/Berlin');
  });

  it('refuses a second customer of the same id or name (on-call coverage keys by name)', () => {
    const { customers } = stores(db);
    customers.create({ id: 'acme', name: 'Acme Ltd' });
    expect(refusal(() => customers.create({ id: 'acme', name: 'Other' })).code).toBe(
      'VIGIL_CONFLICT',
    );
    expect(refusal(() => customers.create({ id: 'acme-2', name: ' acme  LTD ' })).message).toMatch(
      /acme has the name/,
    );
    expect(refusal(() => customers.patch('nobody', { name: 'X' })).code).toBe('VIGIL_NOT_FOUND');
  });

  it('links sites to customers, answers their name, and follows a rename', () => {
    const { customers, sites } = stores(db);
    customers.create({ id: 'acme', name: 'Acme', timeZone: 'Europe/Berlin' });
    expect(sites.put('north', { customerId: 'acme' })).toMatchObject({
      customer: 'Acme',
      customerId: 'acme',
    });
    expect(customers.forSite('north')?.id).toBe('acme');
    expect(customers.forSite('south')).toBeNull();
    expect(customers.timeZoneOf('north')).toBe('Europe/Berlin');
    expect(customers.timeZoneOf('south')).toBe('Asia/Shanghai');
    expect(customers.get('acme')?.sites).toEqual(['north']);

    customers.patch('acme', { name: 'Acme Group' });
    expect(sites.get('north').customer).toBe('Acme Group');
    expect(sites.customerOf('north')).toBe('Acme Group');

    const unknown = refusal(() => sites.put('north', { customerId: 'ghost' }));
    expect(unknown.code).toBe('VIGIL_BAD_REQUEST');
    expect(unknown.details[0]).toMatch(/customerId: no customer "ghost".*POST \/api\/customers/);

    // The older text field: the customer of that name, made when there is none.
    expect(sites.put('south', { customer: 'acme group' }).customerId).toBe('acme');
    expect(sites.put('east', { customer: 'Beta Corp' })).toMatchObject({
      customer: 'Beta Corp',
      customerId: 'beta-corp',
    });
    expect(sites.put('east', { customerId: null })).toMatchObject({
      customer: '',
      customerId: null,
    });
    // A change of another field keeps the customer.
    expect(sites.put('north', { retentionGoalDays: 60 }).customerId).toBe('acme');
  });

  it('makes ids from names: ASCII kept, a Chinese name hashed', () => {
    expect(slugOf('Acme, Inc.')).toBe('acme-inc');
    expect(slugOf('Café Müller')).toBe('cafe-muller');
    expect(slugOf('上海某物流有限公司')).toMatch(/^customer-[0-9a-f]{8}$/);
    expect(slugOf('上海某物流有限公司')).toBe(slugOf(' 上海某物流有限公司 '));
  });
});

describe('upgrade from free-text customers', () => {
  let dir: TempDir;
  beforeEach(async () => {
    dir = await tempDir('vigil-customers-upgrade-');
  });
  afterEach(async () => {
    await dir.remove();
  });

  it('turns each distinct customer text into a customer and links its sites', () => {
    const file = join(dir.path, 'vigil.db');
    // The sites table and its migration record exactly as version 1 of the sites
    // component wrote them (broker/sites/store.ts before customers).
    const old = new Database(file);
    old.exec(`
      CREATE TABLE schema_migrations (component TEXT NOT NULL, version INTEGER NOT NULL,
        applied_at TEXT NOT NULL, PRIMARY KEY (component, version));
      CREATE TABLE sites (id TEXT PRIMARY KEY, name TEXT NOT NULL DEFAULT '',
        customer TEXT NOT NULL DEFAULT '', accepted_on TEXT,
        retention_goal_days REAL NOT NULL DEFAULT 30);
      CREATE TABLE site_devices (site_id TEXT NOT NULL, device_id TEXT NOT NULL,
        criticality TEXT NOT NULL DEFAULT 'normal' CHECK (criticality IN ('high', 'normal', 'low')),
        recorder_id TEXT, accepted_on TEXT, warranty_ends_on TEXT, replaced_on TEXT,
        PRIMARY KEY (site_id, device_id));
      INSERT INTO schema_migrations VALUES ('sites', 1, '2026-01-01T00:00:00.000Z');
      INSERT INTO sites (id, name, customer) VALUES
        ('north', 'North depot', 'Acme, Inc.'),
        ('south', 'South depot', 'acme,  inc.'),
        ('plant', 'Plant', '上海某物流有限公司'),
        ('lab', 'Lab', '');
    `);
    old.close();

    const db = openDatabase(file);
    try {
      const { customers, sites } = stores(db);
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

      // A second start finds nothing left to do.
      stores(db);
      expect(customers.list()).toHaveLength(2);
    } finally {
      db.close();
    }
  });
});
