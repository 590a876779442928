/**
 * The words of the documents Vigil hands a customer: the inspection report (巡检报告,
 * broker/inspection/html.ts) and the incident report (故障报告, broker/tickets/report.ts).
 * Their headings, labels, table headers, units, dates and times in zh-CN and en; what
 * happened (suggestions, timeline entries) comes from the message catalogue (./render.ts).
 * Schema-free, so the console may use it too.
 *
 * Times are the customer's local time with the UTC offset ("2026-11-26 16:00 (UTC+08:00)"):
 * a document read in another zone, or across a daylight-saving change, cannot be misread.
 */
import { documentsEn } from './documents-en.js';
import { documentsZhCN } from './documents-zh-CN.js';
import type { DocumentWords, ZonedParts } from './document-words.js';
import type { WordingLocale } from './render.js';

export type { DocumentWords, ZonedParts } from './document-words.js';

export function zonedParts(iso: string, timeZone: string): ZonedParts {
  const parts = new Intl.DateTimeFormat('en-CA', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
    timeZoneName: 'longOffset',
  }).formatToParts(new Date(iso));
  const part = (type: Intl.DateTimeFormatPartTypes) =>
    parts.find((p) => p.type === type)?.value ?? '';
  // longOffset says "GMT+08:00", and "GMT" alone for UTC itself.
  const zone = part('timeZoneName').replace('GMT', 'UTC');
  return {
    year: part('year'),
    month: part('month'),
    day: part('day'),
    hour: part('hour'),
    minute: part('minute'),
    offset: zone === 'UTC' ? 'UTC+00:00' : zone,
  };
}

export const documentWords: Readonly<Record<WordingLocale, DocumentWords>> = {
  en: documentsEn,
  'zh-CN': documentsZhCN,
};

/** `iso` as `locale` writes a time of `timeZone`, with the offset. */
export function documentTime(iso: string, timeZone: string, locale: WordingLocale): string {
  return documentWords[locale].time(zonedParts(iso, timeZone));
}

/** Both languages, for a query's `locale` or a customer's setting of another kind. */
export function wordingLocale(value: string | null | undefined): WordingLocale | undefined {
  return value === 'en' || value === 'zh-CN' ? value : undefined;
}
