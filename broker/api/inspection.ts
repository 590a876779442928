/**
 * GET /api/sites/:site/inspection(.html)?period=2026-11|2026-Q4: the contract's inspection
 * report. The weekly trends of a period that is over come from the report cache
 * (broker/inspection/cache.ts); the answer's `x-vigil-report-cache` header says `hit`,
 * `miss` (computed, and kept unless late data landed meanwhile), `not-over` (the
 * period runs on: computed every time) or `off` (no metrics store or no cache). Everything else is read on every request.
 *
 * A period is a calendar month or quarter in the site's customer's time zone (Asia/Shanghai
 * for a site without one); the answer says which (`timeZone`). Its text (suggestions, the
 * printed page) is in the customer's language (zh-CN for a site without one) unless
 * `locale` asks for another; the answer says which (`locale`). A customer's figures
 * (GET /api/customers/:id/figures) are read from its sites' reports of the same period.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { ApiError } from '../../shared/api/common.js';
import type { CustomerFigures } from '../../shared/api/customers.js';
import { InspectionQuery, InspectionReport } from '../../shared/api/inspection.js';
import { siteApiRoutes, SiteParams } from '../../shared/api/sites.js';
import type { DeviceRegistry } from '../devices/registry.js';
import { inspectionHtml } from '../inspection/html.js';
import type { CacheAnswer, ReportCache } from '../inspection/cache.js';
import { combinedFigures, siteFigures } from '../inspection/figures.js';
import {
  DEFAULT_REPORT_LOCALE,
  inspectionReport,
  periodRange,
  siteWeeklyTrends,
} from '../inspection/report.js';
import type { WordingLocale } from '../../shared/wording/render.js';
import { siteMonthlyFigures, siteMonthlyReadings, type ChartMonth } from '../inspection/trends.js';
import type { MetricsStore } from '../metrics/store.js';
import type { TicketService } from '../tickets/types.js';
import type { Ticket } from '../../shared/api/tickets.js';
import type { Desk } from '../wiring/desk.js';

export interface InspectionRoutesOptions {
  desk: Desk;
  devices: DeviceRegistry;
  metrics: MetricsStore | null;
  /** Keeps the trends of past periods; without it every report reads its readings. */
  cache?: ReportCache;
  now?: () => Date;
}

/** The largest page the ticket list gives (TicketQuery.limit). */
const TICKET_PAGE = 1000;

/**
 * Every ticket of a site opened in [from, to), oldest first, a page at a time: a large
 * site can open more than a page in a quarter, and each page is one bounded query on the
 * event loop, with the loop handed back between pages. The next page starts at the last
 * opening time (inclusive, the tickets already taken skipped): keyset paging, no OFFSET.
 */
async function ticketsOpened(
  tickets: TicketService,
  siteId: string,
  from: Date,
  to: Date,
): Promise<Ticket[]> {
  const all: Ticket[] = [];
  const seen = new Set<number>();
  let since = from.toISOString();
  for (;;) {
    const page = await tickets.list({
      status: 'all',
      siteId,
      from: since,
      to: to.toISOString(),
      sort: 'oldest',
      limit: TICKET_PAGE,
    });
    const fresh = page.filter((ticket) => !seen.has(ticket.id));
    for (const ticket of fresh) {
      seen.add(ticket.id);
      all.push(ticket);
    }
    // A short page is the last. A page with nothing new would be asked again forever: a
    // whole page of tickets opened in one millisecond (one clock beat opening 1,000
    // tickets of a site: the detector holds a site-wide event as one ticket); paging
    // past it needs an id cursor in TicketQuery.
    if (page.length < TICKET_PAGE || fresh.length === 0) return all;
    since = page[page.length - 1]!.openedAt;
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/**
 * One site's report of a period, in its customer's zone. Without `withTrends` the weekly
 * trends (the readings, the expensive part) are left out: the customer's figures need
 * none of them.
 */
export async function buildSiteReport(
  { desk, devices, metrics, cache, now = () => new Date() }: InspectionRoutesOptions,
  site: string,
  period: string,
  withTrends = true,
  locale?: WordingLocale,
): Promise<{ report: InspectionReport; answer: CacheAnswer | 'off' }> {
  const timeZone = desk.customers.timeZoneOf(site);
  // The text in the customer's language unless the reader asked for another (?locale=).
  const language = locale ?? desk.customers.forSite(site)?.locale ?? DEFAULT_REPORT_LOCALE;
  const { from, to } = periodRange(period, timeZone);
  const at = now();
  // Only a period that is over is kept: the rest of a running one is still to come.
  const over = to.getTime() <= at.getTime();
  const store = withTrends ? metrics : null;
  let answer: CacheAnswer | 'off' = cache && store ? 'not-over' : 'off';
  const tickets = await ticketsOpened(desk.tickets, site, from, to);
  const report = await inspectionReport({
    site: desk.sites.get(site),
    period,
    timeZone,
    locale: language,
    // The customer's warranty years (issue 16 part 7); the contract's 3 for a site without one.
    ...warrantyYearsOf(desk, site),
    devices: devices.list({ siteId: site }),
    changes: await desk.history.changes(site, from, to),
    maintenance: desk.maintenance.spans(site, from, to),
    tickets,
    inventory: await desk.history.inventory(site, from, to),
    metrics: store,
    // The cache keys by instants, and a zone's month has instants of its own: two zones'
    // "2026-11" are two entries.
    ...(cache && store && over
      ? {
          trends: async (siteId: string, a: Date, b: Date) => {
            const kept = await cache.trends(siteId, a, b, at, () =>
              siteWeeklyTrends(store, siteId, a, b, timeZone),
            );
            answer = kept.answer;
            return kept.trends;
          },
        }
      : {}),
    now: at,
  });
  // The 12-month charts beside the weekly table (broker/inspection/trends.ts): twelve
  // store requests per field; their readings kept with the weekly trends once the period
  // is over (the availability is read again, as the report's).
  if (withTrends)
    report.monthly = await siteMonthlyFigures({
      metrics,
      ...(cache && metrics && over
        ? {
            readings: async (months: readonly ChartMonth[]) => {
              const kept = await cache.trends(
                site,
                new Date(months[0]!.from),
                new Date(months[months.length - 1]!.to),
                at,
                () => siteMonthlyReadings(metrics, site, months),
                'monthly',
              );
              return kept.trends;
            },
          }
        : {}),
      history: {
        changes: (a, b) => desk.history.changes(site, a, b),
        maintenance: (a, b) => desk.maintenance.spans(site, a, b),
      },
      siteId: site,
      period,
      timeZone,
      now: at,
    });
  return { report, answer };
}

/**
 * A customer's availability and SLA compliance over its sites for a period in its zone:
 * each site's figures from its report (broker/inspection/figures.ts), then combined.
 */
function warrantyYearsOf(desk: Desk, site: string): { warrantyYears?: number } {
  const years = desk.customers.forSite(site)?.contract.warrantyYears;
  return years === undefined ? {} : { warrantyYears: years };
}

export async function customerFigures(
  options: InspectionRoutesOptions,
  customerId: string,
  period: string,
): Promise<CustomerFigures> {
  const customer = options.desk.customers.require(customerId);
  const { from, to } = periodRange(period, customer.timeZone);
  const sites = [];
  for (const siteId of customer.sites) {
    const { report } = await buildSiteReport(options, siteId, period, false);
    sites.push(siteFigures(report));
  }
  return {
    customerId: customer.id,
    customerName: customer.name,
    period,
    timeZone: customer.timeZone,
    from: from.toISOString(),
    to: to.toISOString(),
    ...combinedFigures(sites),
    sites,
  };
}

export const inspectionRoutes: FastifyPluginAsyncTypebox<InspectionRoutesOptions> = async (
  app,
  options,
) => {
  const build = (site: string, period: string, locale?: WordingLocale) =>
    buildSiteReport(options, site, period, true, locale);

  app.get(
    siteApiRoutes.inspection,
    {
      config: { scope: 'customer' },
      schema: {
        summary: 'The inspection report of a site for a month (2026-11) or a quarter (2026-Q4)',
        tags: ['sites'],
        params: SiteParams,
        querystring: InspectionQuery,
        response: { 200: InspectionReport, 400: ApiError, 401: ApiError, 503: ApiError },
      },
    },
    async (request, reply) => {
      const { report, answer } = await build(
        request.params.site,
        request.query.period,
        request.query.locale,
      );
      void reply.header('x-vigil-report-cache', answer);
      // JSON.stringify, not the schema's serializer: for a 500-device report that one
      // compiled a validator per nullable field on first use and checked every nullable
      // value against it, about 100 ms of event loop (bench:report's profile) where
      // JSON.stringify takes a few. The report is built to the schema (the tests check).
      return reply.serializer(JSON.stringify).send(report);
    },
  );

  app.get(
    siteApiRoutes.inspectionHtml,
    {
      config: { scope: 'customer' },
      schema: {
        summary: 'The inspection report as a printable HTML page',
        tags: ['sites'],
        params: SiteParams,
        querystring: InspectionQuery,
        response: {
          200: { description: 'HTML', content: { 'text/html': { schema: Type.String() } } },
          400: ApiError,
          401: ApiError,
          503: ApiError,
        },
      },
    },
    async (request, reply) => {
      const { report, answer } = await build(
        request.params.site,
        request.query.period,
        request.query.locale,
      );
      void reply.header('x-vigil-report-cache', answer);
      return reply.type('text/html; charset=utf-8').send(inspectionHtml(report));
    },
  );
};
