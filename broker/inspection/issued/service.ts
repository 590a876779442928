/**
 * Issuing a period's inspection report (issue 16 part 4): the report as it stands now, in
 * the customer's language, its printable page and the PDF of that page, stored as the next
 * version (./store.ts). The rules of issuing and signing live here; the routes
 * (broker/api/issued-reports.ts) only check who asks.
 *
 * - Only a period that is over is issued: the rest of a running one is still to come, and
 *   a customer signs what the month was, not a part of it.
 * - The customer of the report is the site's customer when it is issued; its language is
 *   the customer's unless the request names another.
 * - A sign-off is dated in the customer's calendar, no earlier than the day of issue (in
 *   the report's zone) and no later than today there.
 */
import type { CustomerLocale } from '../../../shared/api/customers.js';
import type { InspectionReport } from '../../../shared/api/inspection.js';
import type {
  IssuedReportSummary,
  SignOff,
  SignOffRequest,
} from '../../../shared/api/issued-reports.js';
import type { Site } from '../../../shared/api/sites.js';
import { VigilError } from '../../../shared/errors.js';
import { zonedParts } from '../../../shared/wording/documents.js';
import { localTime } from '../../notify/compose.js';
import { periodRange } from '../report.js';
import type { PdfPrinter } from './pdf.js';
import type { IssuedReportStore } from './store.js';

/** What issuing needs from the rest of the broker, wired by the routes. */
export interface IssuingDeps {
  store: IssuedReportStore;
  printer: PdfPrinter;
  // The site and customer stores answer from memory or from the database (broker/sql):
  // awaited either way.
  /** The site's record (its name); VIGIL_NOT_FOUND for an unknown site. */
  site(siteId: string): Site | Promise<Site>;
  /** The site's customer now: id, name, language, zone; null for a site without one. */
  customerOf(siteId: string): Awaitable<{
    id: string;
    name: string;
    locale: CustomerLocale;
    timeZone: string;
  } | null>;
  /** The zone of the site's periods (its customer's, else Asia/Shanghai). */
  timeZoneOf(siteId: string): string | Promise<string>;
  /** The period's report as the live route computes it, its text in `locale`. */
  build(siteId: string, period: string, locale: CustomerLocale): Promise<InspectionReport>;
  /** The printable page of a report in `locale`. */
  render(report: InspectionReport, locale: CustomerLocale): string;
  now?: () => Date;
}

type Awaitable<T> = T | Promise<T>;

/** The language of a site without a customer: the contract's customers read Chinese. */
const DEFAULT_LOCALE: CustomerLocale = 'zh-CN';

/** YYYY-MM-DD of an instant in a zone: the calendar a sign-off is dated in. */
function localDay(at: Date, timeZone: string): string {
  const { year, month, day } = zonedParts(at.toISOString(), timeZone);
  return `${year}-${month}-${day}`;
}

export class IssuedReports {
  private readonly now: () => Date;

  constructor(private readonly deps: IssuingDeps) {
    this.now = deps.now ?? (() => new Date());
  }

  /** Freezes the period's report as the next version; refuses a period still running. */
  async issue(
    siteId: string,
    period: string,
    by: string,
    locale?: CustomerLocale,
  ): Promise<IssuedReportSummary> {
    const site = await this.deps.site(siteId);
    const customer = await this.deps.customerOf(siteId);
    const timeZone = await this.deps.timeZoneOf(siteId);
    const { to } = periodRange(period, timeZone);
    const at = this.now();
    if (to.getTime() > at.getTime()) {
      throw new VigilError(
        'VIGIL_CONFLICT',
        `${period} runs until ${localTime(to.toISOString(), timeZone)}: a report is issued once its period is over (its figures would still change); GET /api/sites/${siteId}/inspection?period=${period} shows it as it stands.`,
      );
    }
    const language = locale ?? customer?.locale ?? DEFAULT_LOCALE;
    const report = await this.deps.build(siteId, period, language);
    const html = this.deps.render(report, language);
    // Printed before anything is stored: a failed print leaves no version without a PDF.
    const pdf = await this.deps.printer.print(html);
    return this.deps.store.add({
      siteId,
      siteName: site.name || siteId,
      customerId: customer?.id ?? null,
      customerName: customer?.name ?? report.customer,
      period,
      issuedAt: this.now().toISOString(),
      issuedBy: by,
      locale: language,
      timeZone: report.timeZone ?? timeZone,
      report,
      html,
      pdf,
    });
  }

  /** Records a sign-off of one version, dated in the report's zone. */
  async signOff(
    siteId: string,
    period: string,
    version: number,
    request: SignOffRequest,
    by: string,
  ): Promise<SignOff> {
    const issued = await this.deps.store.summary(siteId, period, version);
    const at = this.now();
    const issuedOn = localDay(new Date(issued.issuedAt), issued.timeZone);
    const today = localDay(at, issued.timeZone);
    const details: string[] = [];
    if (!request.name.trim()) details.push('name: empty; send the name of the person who signed');
    if (Number.isNaN(Date.parse(`${request.signedOn}T00:00:00Z`)))
      details.push(`signedOn: ${request.signedOn} is not a calendar day`);
    else if (request.signedOn < issuedOn)
      details.push(
        `signedOn: ${request.signedOn} is before the report was issued (${issuedOn}, ${issued.timeZone})`,
      );
    else if (request.signedOn > today)
      details.push(`signedOn: ${request.signedOn} is after today (${today}, ${issued.timeZone})`);
    if (details.length > 0)
      throw new VigilError(
        'VIGIL_BAD_REQUEST',
        'The sign-off is not valid; fix the listed fields.',
        details,
      );
    return this.deps.store.signOff(siteId, period, version, {
      name: request.name.trim(),
      signedOn: request.signedOn,
      remarks: (request.remarks ?? '').trim(),
      recordedBy: by,
      recordedAt: at.toISOString(),
    });
  }
}
