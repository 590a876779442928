/**
 * Site metadata from CSV (RFC 4180: comma separated, double quotes around fields with
 * commas, quotes or line breaks, "" for a quote inside). The header names the columns,
 * in any order:
 *
 *   site,name,customer,accepted_on,retention_goal_days,device,criticality,recorder,warranty_ends_on,replaced_on
 *
 * An empty cell keeps what is stored; a row without `device` sets the site only.
 */
import type { Criticality, SiteDevicePut, SitePut } from '../../shared/api/sites.js';
import { isId } from '../../shared/ids.js';
import { VigilError } from '../../shared/errors.js';
import type { SiteStore } from './store.js';

export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    if (quoted) {
      if (char === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (char === '"') quoted = false;
      else field += char;
    } else if (char === '"') quoted = true;
    else if (char === ',') {
      row.push(field);
      field = '';
    } else if (char === '\n' || char === '\r') {
      if (char === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      field = '';
      if (row.some((cell) => cell !== '')) rows.push(row);
      row = [];
    } else field += char;
  }
  row.push(field);
  if (row.some((cell) => cell !== '')) rows.push(row);
  return rows;
}

const DAY = /^\d{4}-\d{2}-\d{2}$/;
const criticalities: readonly string[] = ['high', 'normal', 'low'];

/** Checks every row first and imports nothing if one is wrong; returns what changed. */
export async function importSitesCsv(
  store: SiteStore,
  text: string,
): Promise<{ sites: number; devices: number }> {
  const [header, ...rows] = parseCsv(text.replace(/^\uFEFF/, ''));
  if (header === undefined) throw new VigilError('VIGIL_BAD_REQUEST', 'The CSV is empty.');
  const columns = header.map((name) => name.trim().toLowerCase());
  if (!columns.includes('site')) {
    throw new VigilError('VIGIL_BAD_REQUEST', 'The CSV header has no "site" column.', [
      `header: ${header.join(',')}`,
    ]);
  }
  const errors: string[] = [];
  const plans: { site: string; sitePut: SitePut; device?: string; devicePut: SiteDevicePut }[] = [];
  rows.forEach((cells, index) => {
    const line = index + 2;
    const cell = (name: string) => {
      const at = columns.indexOf(name);
      const value = at < 0 ? '' : (cells[at] ?? '').trim();
      return value === '' ? undefined : value;
    };
    const site = cell('site') ?? '';
    if (!isId(site)) errors.push(`line ${line}: site "${site}" is not a valid id`);
    const sitePut: SitePut = {};
    const devicePut: SiteDevicePut = {};
    const name = cell('name');
    if (name !== undefined) sitePut.name = name;
    const customer = cell('customer');
    if (customer !== undefined) sitePut.customer = customer;
    const day = (column: string): string | undefined => {
      const value = cell(column);
      if (value !== undefined && !DAY.test(value)) {
        errors.push(`line ${line}: ${column} "${value}" is not a date (YYYY-MM-DD)`);
      }
      return value;
    };
    const accepted = day('accepted_on');
    const goal = cell('retention_goal_days');
    if (goal !== undefined) {
      const days = Number(goal);
      if (!Number.isFinite(days) || days < 0)
        errors.push(`line ${line}: retention_goal_days "${goal}" is not a number of days`);
      else sitePut.retentionGoalDays = days;
    }
    const device = cell('device');
    if (device !== undefined && !isId(device))
      errors.push(`line ${line}: device "${device}" is not a valid id`);
    if (device === undefined) {
      if (accepted !== undefined) sitePut.acceptedOn = accepted;
    } else {
      if (accepted !== undefined) devicePut.acceptedOn = accepted;
      const criticality = cell('criticality');
      if (criticality !== undefined) {
        if (criticalities.includes(criticality)) devicePut.criticality = criticality as Criticality;
        else errors.push(`line ${line}: criticality "${criticality}" is not high, normal or low`);
      }
      const recorder = cell('recorder');
      if (recorder !== undefined) devicePut.recorderId = recorder;
      const warranty = day('warranty_ends_on');
      if (warranty !== undefined) devicePut.warrantyEndsOn = warranty;
      const replaced = day('replaced_on');
      if (replaced !== undefined) devicePut.replacedOn = replaced;
    }
    plans.push({ site, sitePut, ...(device !== undefined ? { device } : {}), devicePut });
  });
  if (errors.length > 0) {
    throw new VigilError('VIGIL_BAD_REQUEST', 'The CSV has errors; nothing was imported.', errors);
  }
  const sites = new Set<string>();
  let devices = 0;
  for (const plan of plans) {
    if (Object.keys(plan.sitePut).length > 0 || !store.exists(plan.site))
      await store.put(plan.site, plan.sitePut);
    sites.add(plan.site);
    if (plan.device !== undefined) {
      await store.putDevice(plan.site, plan.device, plan.devicePut);
      devices++;
    }
  }
  return { sites: sites.size, devices };
}
