/**
 * The numbers a contract is judged by, over several sites' inspection reports (issue 16
 * part 9): availability and SLA compliance per customer. Read from the reports, never
 * computed again: a site's availability is report.ts's (up time over observed time,
 * maintenance left out), its compliance the deadlines its report counts met and breached.
 */
import type { SiteFigures } from '../../shared/api/customers.js';
import type { InspectionReport } from '../../shared/api/inspection.js';
import { round } from './report.js';

/** One site's figures: its devices' observed and up seconds, its deadlines met and breached. */
export function siteFigures(report: InspectionReport): SiteFigures {
  let observedS = 0;
  let downS = 0;
  for (const device of report.devices) {
    observedS += device.observedS;
    downS += device.outages.totalS;
  }
  const met = report.tickets.reduce((sum, t) => sum + t.met, 0);
  const breached = report.tickets.reduce((sum, t) => sum + t.breached, 0);
  return {
    siteId: report.siteId,
    siteName: report.siteName,
    availabilityPct: report.availabilityPct,
    observedS: round(observedS, 1),
    upS: round(Math.max(0, observedS - downS), 1),
    met,
    breached,
    compliancePct: met + breached > 0 ? round((met / (met + breached)) * 100, 1) : null,
  };
}

/**
 * Over every site: availability weighed by each site's observed time (a site of 200
 * cameras weighs more than one of 4, as the report's site figure weighs its devices),
 * compliance over all deadlines; null where nothing was observed or no deadline ended.
 */
export function combinedFigures(sites: readonly SiteFigures[]): {
  availabilityPct: number | null;
  met: number;
  breached: number;
  compliancePct: number | null;
} {
  let observed = 0;
  let up = 0;
  let met = 0;
  let breached = 0;
  for (const site of sites) {
    observed += site.observedS;
    up += site.upS;
    met += site.met;
    breached += site.breached;
  }
  return {
    availabilityPct: observed > 0 ? round((up / observed) * 100, 3) : null,
    met,
    breached,
    compliancePct: met + breached > 0 ? round((met / (met + breached)) * 100, 1) : null,
  };
}
