/**
 * The contract's preventive inspection (巡检) of one site for a month or a quarter,
 * computed from what Vigil recorded: device status history (availability, outages,
 * MTTR, MTBF), maintenance windows (left out of every figure), tickets (SLA compliance
 * per priority), the metrics store (weekly trends), inventory changes, warranty dates,
 * and suggestions with the figures behind them. Periods are calendar months and
 * quarters in the customer's time zone (a fault at 06:00 on 1 December Beijing time is
 * December's); the part of a period still in the future is not counted. An outage across
 * a period's edge counts in both periods, each with its own part of the down time.
 */
import type { Device } from '../../shared/api/devices.js';
import type {
  DeviceInspection,
  InspectionReport,
  Suggestion,
  WeeklyTrend,
} from '../../shared/api/inspection.js';
import type { Site } from '../../shared/api/sites.js';
import type { Priority, Ticket } from '../../shared/api/tickets.js';
import { message, type Message, type MessageOf } from '../../shared/wording/messages.js';
import { say, type WordingLocale } from '../../shared/wording/render.js';
import { DEFAULT_WARRANTY_YEARS, warrantyEnd, warrantyState } from '../../shared/warranty.js';
import type { MetricsStore } from '../metrics/store.js';
import type { Span } from '../maintenance/store.js';
import type { InventoryRow, StatusChange } from './history.js';

/** Leaving warranty within this many days of the period's end counts as "soon". */
export { WARRANTY_SOON_DAYS } from '../../shared/warranty.js';
export const WARRANTY_YEARS = DEFAULT_WARRANTY_YEARS;

/** The language of a site without a customer: the contract's customers read Chinese. */
export const DEFAULT_REPORT_LOCALE: WordingLocale = 'zh-CN';

export {
  availability,
  DEFAULT_TIME_ZONE,
  periodRange,
  round,
  statusIntervals,
  type AvailabilityFigures,
} from './availability.js';
import { availability, DEFAULT_TIME_ZONE, periodRange, round } from './availability.js';

/**
 * Warranty: the contract's years (the customer's, 3 by default) from the day after final
 * acceptance; a warranty repair restarts it from the replacement; an explicit end date
 * wins. The rule itself is shared/warranty.ts, read by the customers' expiry list too.
 */
export function warrantyOf(
  site: Site,
  deviceId: string,
  reference: Date,
  years: number = DEFAULT_WARRANTY_YEARS,
): DeviceInspection['warranty'] {
  const meta = site.devices.find((d) => d.deviceId === deviceId);
  const endsOn = warrantyEnd(
    {
      replacedOn: meta?.replacedOn ?? null,
      acceptedOn: meta?.acceptedOn ?? null,
      siteAcceptedOn: site.acceptedOn,
      warrantyEndsOn: meta?.warrantyEndsOn ?? null,
    },
    years,
  );
  return { endsOn, state: warrantyState(endsOn, reference) };
}

// The weekly trends (local weeks) and the 12-month figures: trends.ts.
export { siteWeeklyTrends, weekStart } from './trends.js';
import { siteWeeklyTrends } from './trends.js';

/** Where the site's weekly trends of a range come from: the store, or a cache in front of it. */
export type TrendSource = (siteId: string, from: Date, to: Date) => Promise<WeeklyTrend[]>;

/**
 * How fast tickets were acknowledged (issue 15 part 6): opened to the first response, in
 * the console or from a notification's link; how many were, the median and the slowest, s.
 */
export function acknowledgeFigures(tickets: readonly Pick<Ticket, 'openedAt' | 'respondedAt'>[]): {
  acknowledged: number;
  ackMedianS: number | null;
  ackMaxS: number | null;
} {
  const seconds = tickets
    .filter((t) => t.respondedAt !== null)
    .map((t) => (Date.parse(t.respondedAt!) - Date.parse(t.openedAt)) / 1000)
    .sort((a, b) => a - b);
  const n = seconds.length;
  if (n === 0) return { acknowledged: 0, ackMedianS: null, ackMaxS: null };
  const middle = Math.floor(n / 2);
  const median = n % 2 === 1 ? seconds[middle]! : (seconds[middle - 1]! + seconds[middle]!) / 2;
  return { acknowledged: n, ackMedianS: round(median), ackMaxS: round(seconds[n - 1]!) };
}

export interface InspectionInput {
  site: Site;
  period: string;
  devices: readonly Device[];
  /** Status changes of the site (history.changes). */
  changes: readonly StatusChange[];
  maintenance: readonly Span[];
  /** Tickets of the site opened in the period. */
  tickets: readonly Ticket[];
  inventory: readonly InventoryRow[];
  metrics: MetricsStore | null;
  /** The site's weekly trends; by default asked of `metrics` (siteWeeklyTrends). */
  trends?: TrendSource;
  /** The IANA zone of the period's months (the customer's); Asia/Shanghai by default. */
  timeZone?: string;
  /** The customer's contract.warrantyYears; 3 (the contract's) by default. */
  warrantyYears?: number;
  /** The language of the suggestions' `text` (the customer's); zh-CN by default. */
  locale?: WordingLocale;
  now: Date;
}

/** The advice codes of the report's rules (shared/wording/messages.ts advice.*). */
type AdviceCode = Extract<Message['code'], `advice.${string}`>;

/**
 * The report in another language: every suggestion's `text` rendered again from its
 * message (STYLE habit 14: the code and figures are the suggestion, the words are made
 * for the reader). A suggestion of a report kept before codes keeps its text.
 */
export function reportInLanguage(
  report: InspectionReport,
  locale: WordingLocale,
): InspectionReport {
  return {
    ...report,
    locale,
    suggestions: report.suggestions.map((s) =>
      s.message === undefined ? s : { ...s, text: say(s.message as Message, locale) },
    ),
  };
}

/**
 * Rows per device id, in their order: one pass, where a filter per device would compare
 * every row with every device (500 devices and a quarter's rows on the event loop).
 */
function perDeviceOf<T>(
  rows: readonly T[],
  id: (row: T) => string | null,
): Map<string | null, T[]> {
  const groups = new Map<string | null, T[]>();
  for (const row of rows) {
    const key = id(row);
    const group = groups.get(key);
    if (group) group.push(row);
    else groups.set(key, [row]);
  }
  return groups;
}

export async function inspectionReport(input: InspectionInput): Promise<InspectionReport> {
  const { site, now } = input;
  const timeZone = input.timeZone ?? DEFAULT_TIME_ZONE;
  const range = periodRange(input.period, timeZone);
  const from = range.from.getTime();
  // The future is not observed yet.
  const to = Math.min(range.to.getTime(), now.getTime());
  const devices = [...input.devices].sort((a, b) => a.id.localeCompare(b.id));
  const ids = new Set(devices.map((d) => d.id));
  for (const change of input.changes) ids.add(change.deviceId);

  const locale = input.locale ?? DEFAULT_REPORT_LOCALE;
  const perDevice: DeviceInspection[] = [];
  const suggestions: Suggestion[] = [];
  /** A suggestion is its rule, code and figures; `text` is only their words in `locale`. */
  const advise = <C extends AdviceCode>(
    deviceId: string | null,
    rule: string,
    advice: MessageOf<C>,
    figures: Suggestion['figures'],
  ) => {
    const said = advice as Message;
    suggestions.push({ deviceId, rule, text: say(said, locale), message: said, figures });
  };
  const named = (id: string, fallback: 'camera' | 'nvr') => {
    const device = deviceById.get(id);
    return { kind: device?.kind ?? fallback, name: device?.name ?? id, device: id };
  };
  let siteObserved = 0;
  let siteUp = 0;
  const deviceById = new Map(devices.map((d) => [d.id, d]));
  const changesOf = perDeviceOf(input.changes, (c) => c.deviceId);
  const spansOf = perDeviceOf(input.maintenance, (s) => s.deviceId);
  const siteSpans = spansOf.get(null) ?? [];
  const ticketsOf = perDeviceOf(input.tickets, (t) => t.deviceId ?? null);
  for (const id of [...ids].sort()) {
    const device = deviceById.get(id);
    const changes = changesOf.get(id) ?? [];
    const spans = [...siteSpans, ...(spansOf.get(id) ?? [])];
    const figures = availability(changes, spans, from, Math.max(from, to));
    siteObserved += figures.observedS;
    siteUp += figures.upS;
    const warranty = warrantyOf(site, id, range.to, input.warrantyYears);
    const name = device?.name ?? id;
    const kind = device?.kind ?? 'camera';
    perDevice.push({
      deviceId: id,
      name,
      kind,
      availabilityPct: figures.availabilityPct,
      observedS: round(figures.observedS),
      maintenanceS: round(figures.maintenanceS),
      outages: {
        count: figures.outages.count,
        totalS: round(figures.outages.totalS),
        longestS: round(figures.outages.longestS),
      },
      mttrS: figures.mttrS === null ? null : round(figures.mttrS),
      mtbfS: figures.mtbfS === null ? null : round(figures.mtbfS),
      tickets: ticketsOf.get(id)?.length ?? 0,
      firmware: device?.identity?.firmwareVersion ?? null,
      serialNumber: device?.serialNumber ?? null,
      warranty,
    });
    const who = { kind, name, device: id };
    if (figures.outages.count >= 3) {
      const counted = {
        outages: figures.outages.count,
        downMin: round(figures.downS / 60),
        longestMin: round(figures.outages.longestS / 60),
      };
      advise(
        id,
        'frequent-failures',
        message('advice.frequent-failures', { ...who, ...counted }),
        counted,
      );
    } else if (figures.availabilityPct !== null && figures.availabilityPct < 99) {
      const counted = {
        availabilityPct: figures.availabilityPct,
        outages: figures.outages.count,
        downMin: round(figures.downS / 60),
      };
      advise(
        id,
        'low-availability',
        message('advice.low-availability', { ...who, ...counted }),
        counted,
      );
    }
    if (warranty.state === 'ending-soon' && warranty.endsOn !== null) {
      advise(
        id,
        'warranty-ending',
        message('advice.warranty-ending', { ...who, endsOn: warranty.endsOn }),
        { warrantyEndsOn: warranty.endsOn },
      );
    }
  }

  const metrics = input.metrics;
  const source: TrendSource | null =
    input.trends ??
    (metrics === null ? null : (siteId, a, b) => siteWeeklyTrends(metrics, siteId, a, b, timeZone));
  // The devices the report lists, in their order: a device whose readings are in the
  // store but that the site no longer has is not one of them.
  const trends =
    source === null
      ? []
      : (await source(site.id, new Date(from), new Date(Math.max(from + 1, to)))).filter((t) =>
          ids.has(t.deviceId),
        );
  const trendsOf = perDeviceOf(trends, (t) => t.deviceId);
  for (const id of ids) {
    const weeks = trendsOf.get(id) ?? [];
    // retentionDays is what a full recorder keeps by overwriting (agent/checks/retention.ts):
    // a recorder still filling sends none, so it gets no advice to add storage. The advice
    // takes the week's least reading below the goal, as the retention-short ticket opens.
    const retention = weeks.map((w) => w.retentionDays).filter((v): v is number => v !== null);
    if (retention.length > 0 && Math.min(...retention) < site.retentionGoalDays) {
      const days = Math.min(...retention);
      advise(
        id,
        'retention-below-goal',
        message('advice.retention-below-goal', {
          ...named(id, 'nvr'),
          days,
          goal: site.retentionGoalDays,
        }),
        { retentionDays: days, goalDays: site.retentionGoalDays },
      );
    }
    const drift = weeks.map((w) => w.clockOffsetS).filter((v): v is number => v !== null);
    if (drift.length > 0 && Math.max(...drift) > 5) {
      const offsetS = Math.max(...drift);
      advise(
        id,
        'clock-drift',
        message('advice.clock-drift', { ...named(id, 'camera'), offsetS }),
        { clockOffsetS: offsetS },
      );
    }
  }

  const priorities: Priority[] = ['emergency', 'serious', 'general'];
  const ticketFigures = priorities.map((priority) => {
    const tickets = input.tickets.filter((t) => t.priority === priority);
    let met = 0;
    let breached = 0;
    for (const ticket of tickets) {
      for (const clock of ticket.sla) {
        if (clock.state === 'met') met++;
        else if (clock.state === 'breached') breached++;
      }
    }
    const compliancePct = met + breached > 0 ? round((met / (met + breached)) * 100) : null;
    if (breached > 0) {
      advise(null, 'sla-breaches', message('advice.sla-breaches', { priority, breached, met }), {
        priority,
        met,
        breached,
      });
    }
    return {
      priority,
      tickets: tickets.length,
      met,
      breached,
      compliancePct,
      ...acknowledgeFigures(tickets),
    };
  });

  return {
    siteId: site.id,
    siteName: site.name,
    customer: site.customer,
    period: input.period,
    timeZone,
    locale,
    from: range.from.toISOString(),
    to: range.to.toISOString(),
    generatedAt: now.toISOString(),
    availabilityPct: siteObserved > 0 ? round((siteUp / siteObserved) * 100, 3) : null,
    devices: perDevice,
    tickets: ticketFigures,
    trends,
    inventoryChanges: input.inventory.map((row) => ({ ...row })),
    warrantyEndingSoon: perDevice
      .filter((d) => d.warranty.state === 'ending-soon')
      .map((d) => d.deviceId),
    suggestions,
  };
}
