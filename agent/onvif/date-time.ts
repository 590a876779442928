/**
 * Reading ONVIF date-times ourselves. node-onvif sets year, month and day one by one on a
 * `new Date()`, so the month rolls over (gateway on 31 Jan, device on 15 Feb gives 15 Mar;
 * docs/ONVIF.md); here every value is checked and the instant is built at once
 * with Date.UTC.
 */

/** Plain data from the XML parser: strings, objects and arrays. */
type Xml = unknown;

function text(node: Xml): string | undefined {
  if (typeof node === 'string') return node.trim();
  if (typeof node === 'number') return String(node);
  // A leaf with attributes (`xmlns` on a leaf, a quirk of some devices) parses as { '#text', ... }.
  if (node && typeof node === 'object' && '#text' in node)
    return text((node as { '#text': Xml })['#text']);
  return undefined;
}

function field(node: Xml, name: string): Xml {
  if (!node || typeof node !== 'object') return undefined;
  const value = (node as Record<string, Xml>)[name];
  return Array.isArray(value) ? value[0] : value;
}

function integer(node: Xml, min: number, max: number): number | null {
  const raw = text(node);
  if (raw === undefined || !/^[+-]?\d+$/.test(raw)) return null;
  const value = Number(raw);
  return value >= min && value <= max ? value : null;
}

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/**
 * tt:DateTime ({ Date: { Year, Month, Day }, Time: { Hour, Minute, Second } }) as an
 * instant, or null when a part is missing or out of range. Some devices write the
 * date-time as one xs:dateTime string instead; that is accepted too.
 */
export function parseOnvifDateTime(node: Xml): Date | null {
  const asText = text(node);
  if (asText !== undefined) return parseDateTimeText(asText);
  const date = field(node, 'Date');
  const time = field(node, 'Time');
  const year = integer(field(date, 'Year'), 1970, 9999);
  const month = integer(field(date, 'Month'), 1, 12);
  const day = integer(field(date, 'Day'), 1, 31);
  const hour = integer(field(time, 'Hour'), 0, 23);
  const minute = integer(field(time, 'Minute'), 0, 59);
  // 60 is a leap second (xs:time allows it); Date.UTC carries it into the next minute.
  const second = integer(field(time, 'Second'), 0, 60);
  if (year === null || month === null || day === null) return null;
  if (hour === null || minute === null || second === null) return null;
  if (day > daysInMonth(year, month)) return null;
  return new Date(Date.UTC(year, month - 1, day, hour, minute, second));
}

const DATE_TIME =
  /^(\d{4})-?(\d{2})-?(\d{2})[T -](\d{2}):?(\d{2}):?(\d{2})(?:[.,](\d+))?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/i;

/**
 * An xs:dateTime as devices really write it: extended (2026-01-31T23:59:59Z) or basic
 * (20260131T235959Z) form, a space or a hyphen instead of `T` (budget NVRs), fractions with `.` or `,`, and with or
 * without a zone. A zone-less date-time is taken as UTC: ONVIF devices report UTC on the
 * wire, and a device clock in local time shows up as a clock offset, which is the point.
 */
export function parseDateTimeText(value: string): Date | null {
  const match = DATE_TIME.exec(value.trim());
  if (!match) return null;
  const [, y, mo, d, h, mi, s, fraction, zone] = match;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = Number(mi);
  const second = Number(s);
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return null;
  if (hour > 23 || minute > 59 || second > 60) return null;
  const ms = fraction ? Math.round(Number(`0.${fraction}`) * 1000) : 0;
  let offsetMinutes = 0;
  if (zone && zone.toUpperCase() !== 'Z') {
    const sign = zone.startsWith('-') ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    offsetMinutes = sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4) || '0'));
  }
  return new Date(
    Date.UTC(year, month - 1, day, hour, minute, second, ms) - offsetMinutes * 60_000,
  );
}

/**
 * The device's UTC clock from a parsed GetSystemDateAndTimeResponse element (namespace
 * prefixes removed). ONVIF Core 8.3.11: SystemDateAndTime/UTCDateTime. Without it (the
 * schema makes it optional) the clock is unknown: null, never a guess from LocalDateTime.
 */
export function deviceUtcFromResponse(response: Xml): Date | null {
  const system = field(response, 'SystemDateAndTime');
  const utc = field(system, 'UTCDateTime');
  if (utc === undefined) return null;
  return parseOnvifDateTime(utc);
}

/**
 * Device clock minus gateway clock. The device read its clock somewhere between sending
 * and receiving; the midpoint halves the error that the round trip adds (the NTP idea,
 * RFC 5905 section 8). A tt:DateTime carries whole seconds (tt:Time/Second is an
 * integer), and devices truncate, so the true instant lies somewhere in the second after
 * the one reported: `wholeSeconds` takes the middle of it instead of biasing every offset
 * by half a second. What remains is good to about half a second plus half the round trip.
 */
export function clockOffsetMs(
  deviceUtc: Date,
  sentAtMs: number,
  receivedAtMs: number,
  wholeSeconds = false,
): number {
  const device = deviceUtc.getTime() + (wholeSeconds ? 500 : 0);
  return device - (sentAtMs + receivedAtMs) / 2;
}
