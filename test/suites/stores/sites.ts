/**
 * The conformance suite of the site records (broker/sites/store.ts), run on SQLite and on
 * PostgreSQL (test/suites/stores/backends.ts). The detector and the ticket desk read a
 * device's criticality and recorder from the store's copy in memory on every message:
 * the copy must say what the database says, after a write, a restart and a takeover.
 */
import { expect, it } from 'vitest';
import { SiteStore } from '../../../broker/sites/store.js';
import { importSitesCsv } from '../../../broker/sites/csv.js';
import type { StoreBackend } from './backends.js';
import { customerStores } from './customers.js';

export function siteStoreSuite(backend: StoreBackend): void {
  it('answers the defaults for a site nobody described, and keeps what is written', async () => {
    const sites = new SiteStore(await backend.open());
    await sites.start();
    expect(sites.get('north')).toEqual({
      id: 'north',
      name: 'north',
      customer: '',
      customerId: null,
      acceptedOn: null,
      retentionGoalDays: 30,
      devices: [],
    });
    expect(sites.exists('north')).toBe(false);
    const written = await sites.put('north', {
      name: '北门厂区',
      acceptedOn: '2023-12-19',
      retentionGoalDays: 7.5,
    });
    expect(written).toMatchObject({
      name: '北门厂区',
      acceptedOn: '2023-12-19',
      retentionGoalDays: 7.5,
    });
    expect(sites.exists('north')).toBe(true);
    // A partial change keeps the rest; null clears a date.
    expect(await sites.put('north', { acceptedOn: null })).toMatchObject({
      name: '北门厂区',
      acceptedOn: null,
      retentionGoalDays: 7.5,
    });
  });

  it('keeps per device its criticality, recorder and dates, and answers the hot-path questions', async () => {
    const sites = new SiteStore(await backend.open());
    await sites.start();
    // A device of a site nobody described yet describes the site too.
    await sites.putDevice('north', 'cam-02', { recorderId: 'nvr-01', criticality: 'high' });
    await sites.putDevice('north', 'cam-01', { recorderId: 'nvr-01' });
    await sites.putDevice('north', 'cam-03', { warrantyEndsOn: '2029-06-30' });
    expect(sites.exists('north')).toBe(true);
    expect(sites.criticality('north', 'cam-02')).toBe('high');
    expect(sites.criticality('north', 'cam-01')).toBe('normal');
    expect(sites.criticality('south', 'cam-01')).toBe('normal');
    expect(sites.recordedBy('north', 'nvr-01')).toEqual(['cam-01', 'cam-02']);
    expect(await sites.putDevice('north', 'cam-02', { replacedOn: '2026-06-01' })).toEqual({
      deviceId: 'cam-02',
      criticality: 'high',
      recorderId: 'nvr-01',
      acceptedOn: null,
      warrantyEndsOn: null,
      replacedOn: '2026-06-01',
    });
    expect(sites.get('north').devices.map((d) => d.deviceId)).toEqual([
      'cam-01',
      'cam-02',
      'cam-03',
    ]);
    expect(sites.device('north', 'cam-09')).toBeUndefined();
  });

  it('what one connection writes, another sees at start and after reload (the other node of a pair)', async () => {
    const db = await backend.open();
    const { sites, customers } = await customerStores(db);
    await customers.create({ id: 'acme', name: 'Acme' });
    await sites.put('north', { name: 'North', customerId: 'acme', retentionGoalDays: 90 });
    await sites.putDevice('north', 'cam-01', { criticality: 'low', recorderId: 'nvr-01' });

    const other = await customerStores(await backend.reopen(db));
    expect(other.sites.list()).toEqual(sites.list());
    expect(other.sites.criticality('north', 'cam-01')).toBe('low');
    expect(other.sites.sitesOf('acme')).toEqual(['north']);

    // Written here after the other started: its copy is as of its start until it reloads.
    await sites.putDevice('north', 'cam-02', { recorderId: 'nvr-01' });
    await sites.put('south', { customer: 'Beta Corp' });
    expect(other.sites.recordedBy('north', 'nvr-01')).toEqual(['cam-01']);
    await other.customers.reload();
    await other.sites.reload();
    expect(other.sites.recordedBy('north', 'nvr-01')).toEqual(['cam-01', 'cam-02']);
    expect(other.sites.get('south')).toMatchObject({
      customer: 'Beta Corp',
      customerId: 'beta-corp',
    });
    expect(other.sites.list()).toEqual(sites.list());
  });

  it('two writes at once to one site keep both changes', async () => {
    const sites = new SiteStore(await backend.open());
    await sites.start();
    await Promise.all([
      sites.put('north', { name: 'North' }),
      sites.put('north', { retentionGoalDays: 60 }),
      sites.putDevice('north', 'cam-01', { criticality: 'high' }),
      sites.putDevice('north', 'cam-01', { recorderId: 'nvr-01' }),
    ]);
    expect(sites.get('north')).toMatchObject({ name: 'North', retentionGoalDays: 60 });
    expect(sites.device('north', 'cam-01')).toMatchObject({
      criticality: 'high',
      recorderId: 'nvr-01',
    });
  });

  it('a write the database refuses leaves the copy as it was', async () => {
    const db = await backend.open();
    const sites = new SiteStore(db);
    await sites.start();
    await sites.putDevice('north', 'cam-01', { criticality: 'high' });
    // The CHECK on criticality: a value the API schema would have refused.
    await expect(
      sites.putDevice('north', 'cam-01', { criticality: 'urgent' as never }),
    ).rejects.toThrow();
    expect(sites.criticality('north', 'cam-01')).toBe('high');
    // The next write still goes through (the turns go on after a failure).
    await sites.putDevice('north', 'cam-01', { criticality: 'low' });
    expect(sites.criticality('north', 'cam-01')).toBe('low');
  });

  it('imports a CSV of sites and devices, and nothing of a CSV with an error', async () => {
    const { sites } = await customerStores(await backend.open());
    const csv = [
      'site,device,name,customer,accepted_on,criticality,recorder,warranty_ends_on',
      'north,,North depot,Acme,2024-01-02,,,',
      'north,cam-01,,,2024-01-03,high,nvr-01,2027-01-03',
      'south,cam-07,,,,low,,',
    ].join('\n');
    expect(await importSitesCsv(sites, csv)).toEqual({ sites: 2, devices: 2 });
    expect(sites.get('north')).toMatchObject({
      name: 'North depot',
      customer: 'Acme',
      customerId: 'acme',
      acceptedOn: '2024-01-02',
    });
    expect(sites.device('north', 'cam-01')).toMatchObject({
      criticality: 'high',
      recorderId: 'nvr-01',
      acceptedOn: '2024-01-03',
      warrantyEndsOn: '2027-01-03',
    });
    expect(sites.criticality('south', 'cam-07')).toBe('low');
    await expect(
      importSitesCsv(sites, 'site,device,criticality\neast,cam-01,urgent'),
    ).rejects.toThrow(/nothing was imported/);
    expect(sites.exists('east')).toBe(false);
  });
}
