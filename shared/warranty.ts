/**
 * The warranty rule, in one place (STYLE habit 13): the inspection report's "leaving
 * warranty soon", the customers' expiry list (GET /api/customers/:id/warranty) and the
 * warranty restart after a warranty repair (broker/parts/) all read it. Schema-free, so
 * the console may import it.
 *
 * The contract (../shared/mission/service-commitments.md, 质保): free warranty for
 * **3 years** (the customer's contract.warrantyYears) from the day after final
 * acceptance; "a key part replaced because of a fault that is not the buyer's restarts
 * that part's warranty". Days are calendar days (YYYY-MM-DD): the warranty covers up to
 * and including its end day, the anniversary of its start (acceptance or replacement).
 * An anniversary on 29 February of a year that has none falls on 28 February: a warranty
 * started 2024-02-29 for 3 years ends on 2027-02-28, never in March (the year is three
 * years long, not one day longer).
 */

/** The contract's warranty when the site has no customer (三年免费保修). */
export const DEFAULT_WARRANTY_YEARS = 3;
/** "Leaving warranty soon": within this many days (the inspection report, the expiry list). */
export const WARRANTY_SOON_DAYS = 90;

const DAY_MS = 86_400_000;

/** `day` (YYYY-MM-DD) plus whole years; 29 February becomes 28 February in a common year. */
export function addYears(day: string, years: number): string {
  const [y, m, d] = day.split('-').map(Number) as [number, number, number];
  const year = y + years;
  // Day 0 of the next month is the last day of this one.
  const lastDay = new Date(Date.UTC(year, m, 0)).getUTCDate();
  const date = new Date(Date.UTC(year, m - 1, Math.min(d, lastDay)));
  return date.toISOString().slice(0, 10);
}

/** What the warranty of one device is computed from (the site's metadata, shared/api/sites.ts). */
export interface WarrantyBasis {
  /** The device's replacement day, when a warranty repair restarted it. */
  replacedOn?: string | null;
  /** The device's own acceptance day. */
  acceptedOn?: string | null;
  /** The site's final acceptance: the default start of every device's warranty. */
  siteAcceptedOn?: string | null;
  /** An end day someone entered (an extension bought, a vendor's own terms): it wins. */
  warrantyEndsOn?: string | null;
}

/** Where a warranty starts: the replacement, else the device's acceptance, else the site's. */
export function warrantyStart(basis: WarrantyBasis): string | null {
  return basis.replacedOn ?? basis.acceptedOn ?? basis.siteAcceptedOn ?? null;
}

/** The warranty's last day; null when nothing says when it started. */
export function warrantyEnd(
  basis: WarrantyBasis,
  years: number = DEFAULT_WARRANTY_YEARS,
): string | null {
  if (basis.warrantyEndsOn) return basis.warrantyEndsOn;
  const start = warrantyStart(basis);
  return start === null ? null : addYears(start, years);
}

export type WarrantyState = 'in-warranty' | 'ending-soon' | 'expired' | 'unknown';

/**
 * The state at `reference`: expired once the end day is over (UTC days, as the dates are
 * kept), ending soon when it is over within `soonDays`.
 */
export function warrantyState(
  endsOn: string | null,
  reference: Date,
  soonDays: number = WARRANTY_SOON_DAYS,
): WarrantyState {
  if (endsOn === null) return 'unknown';
  const over = Date.parse(`${endsOn}T00:00:00Z`) + DAY_MS;
  const at = reference.getTime();
  if (over <= at) return 'expired';
  if (over - at <= soonDays * DAY_MS) return 'ending-soon';
  return 'in-warranty';
}
