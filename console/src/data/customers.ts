/**
 * Customers for the console (shared/api/customers.ts): the bodies the screen's forms send.
 * The requests themselves go through ApiClient (./api.ts), the only caller of fetch.
 */
import type { CustomerCreate, CustomerPatch, Priority } from './types.js';

export const priorities: readonly Priority[] = ['emergency', 'serious', 'general'];
export const deadlineFields = ['respondMin', 'onSiteMin', 'resolveMin'] as const;

/** The zones Intl knows, for the form's suggestions (the broker checks the one sent). */
export function knownTimeZones(): string[] {
  const intl = Intl as { supportedValuesOf?: (key: string) => string[] };
  return intl.supportedValuesOf?.('timeZone') ?? ['Asia/Shanghai', 'UTC'];
}

/**
 * The deadlines of the form (`emergency.respondMin` ...) as a contract change: a number
 * for a filled field, null for an emptied on-site or resolution field (no deadline), and
 * nothing for a field the form does not have.
 */
export function contractFromForm(data: FormData): NonNullable<CustomerPatch['contract']> {
  const sla: Record<string, Record<string, number | null>> = {};
  for (const priority of priorities) {
    const terms: Record<string, number | null> = {};
    for (const field of deadlineFields) {
      const raw = data.get(`${priority}.${field}`);
      if (raw === null) continue;
      const text = String(raw).trim();
      if (text === '') {
        if (field !== 'respondMin') terms[field] = null;
      } else terms[field] = Number(text);
    }
    if (Object.keys(terms).length > 0) sla[priority] = terms;
  }
  return Object.keys(sla).length > 0 ? { sla } : {};
}

/** The form of a customer as the PATCH body: zone, language, deadlines. */
export function customerPatchFromForm(data: FormData): CustomerPatch {
  const patch: CustomerPatch = {};
  const name = String(data.get('name') ?? '').trim();
  if (name !== '') patch.name = name;
  const timeZone = String(data.get('timeZone') ?? '').trim();
  if (timeZone !== '') patch.timeZone = timeZone;
  const locale = data.get('locale');
  if (locale === 'zh-CN' || locale === 'en') patch.locale = locale;
  const contract = contractFromForm(data);
  if (contract.sla !== undefined) patch.contract = contract;
  return patch;
}

/** The new-customer form as the POST body. */
export function customerCreateFromForm(data: FormData): CustomerCreate {
  const { name = '', ...rest } = customerPatchFromForm(data);
  return { id: String(data.get('id') ?? '').trim(), name, ...rest };
}
