/**
 * Notifications in words: a ticket's message in the team's language and time zone, a
 * digest of several, a channel's own alert. Words come from the catalogue
 * (shared/wording/, codes notify.*); this module only fills in the parameters and
 * makes the plain-text twin of the markdown the drivers adapt.
 */
import type { Ticket } from '../../shared/api/tickets.js';
import { message, type NotifyStage } from '../../shared/wording/messages.js';
import { say } from '../../shared/wording/render.js';
import { zonedParts } from '../../shared/wording/documents.js';
import { faultName } from '../tickets/report.js';
import type { Language, OutgoingMessage, Recipient } from './deps.js';
import type { SmsVariables } from './channels/types.js';

/**
 * A time as the team reads it: local date and time in its IANA zone, with the offset
 * ("2026-12-06 22:30 (UTC+08:00)"), so a reader in another zone is not misled.
 */
export function localTime(iso: string, timeZone: string): string {
  // The documents' own clock (shared/wording/documents.ts): one way to read a zone.
  const t = zonedParts(iso, timeZone);
  return `${t.year}-${t.month}-${t.day} ${t.hour}:${t.minute} (${t.offset})`;
}

/** Markdown made plain: robots' text fallback, the email's text part, SMS. */
export function plain(markdown: string): string {
  return markdown
    .replace(/\[([^\]]*)\]\(([^)]*)\)/g, '$1: $2')
    .replace(/\*\*([^*]*)\*\*/g, '$1')
    .replace(/^#+\s*/gm, '');
}

export interface TicketContext {
  ticket: Ticket;
  stage: NotifyStage;
  /** The SLA deadline of an sla-warning / sla-breach stage. */
  deadline?: string;
  language: Language;
  timeZone: string;
  customer: string;
  siteName: string;
  to: Recipient[];
  /** Null: notify.publicUrl is not set, and the message says so. */
  ticketUrl: string | null;
  ackUrl: string | null;
}

/**
 * The fault as the team reads it, for the message and the SMS alike: the base faults by
 * name in its language, a degradation by its reason; a manual ticket's code is only
 * "manual", so what the reporter saw (its title) instead.
 */
export function faultWords(ticket: Ticket, language: Language): string {
  return ticket.source === 'manual'
    ? say(ticket.titleMessage as Parameters<typeof say>[0], language)
    : faultName(ticket.fault, language);
}

/** One ticket's notification. */
export function ticketMessage(c: TicketContext): OutgoingMessage {
  const { ticket, language } = c;
  const when = (iso: string | null) => (iso === null ? null : localTime(iso, c.timeZone));
  const title = say(
    message('notify.subject', {
      priority: ticket.priority,
      stage: c.stage,
      id: ticket.id,
      title: ticket.titleMessage as Parameters<typeof say>[0],
      ...(c.deadline !== undefined ? { deadline: c.deadline } : {}),
    }),
    language,
  );
  const site =
    c.siteName && c.siteName !== ticket.siteId ? `${c.siteName} (${ticket.siteId})` : ticket.siteId;
  const fault = faultWords(ticket, language);
  const body = say(
    message('notify.body', {
      customer: c.customer,
      site,
      device: ticket.deviceId,
      fault,
      to: c.to.map((r) => r.name),
      respondBy: when(ticket.respondBy),
      onSiteBy: when(ticket.onSiteBy),
      resolveBy: when(ticket.resolveBy),
      ticketUrl: c.ticketUrl,
      ackUrl: c.ackUrl,
    }),
    language,
  );
  const markdown = `**${title}**\n\n${body}`;
  const deadline = ticket.respondBy ?? ticket.resolveBy;
  return {
    kind: c.stage === 'sla-warning' || c.stage === 'sla-breach' ? 'sla' : 'ticket',
    language,
    title,
    markdown,
    text: plain(markdown),
    to: c.to,
    // Alibaba SMS template variables (channels part): short values, no markdown, and no
    // link: a notification template may hold a link only as fixed text ("模板如需链接请将
    // 已ICP备案的网址写于模板非变量内容中", Alibaba Cloud SMS manual, 设置短信模板), and a
    // variable is cut at 35 characters, where an acknowledge link is ~150. The ticket's
    // number instead; docs/NOTIFY.md says how the template reads.
    sms: {
      priority: ticket.priority,
      site: ticket.siteId,
      device: ticket.deviceId ?? '-',
      fault,
      deadline: deadline === null ? '-' : localTime(deadline, c.timeZone),
      count: '1',
      ticket: String(ticket.id),
    } satisfies SmsVariables,
    ticketIds: [ticket.id],
    // The line a digest makes of it, kept whole so a digest of digests pairs each link
    // with its own ticket (never parsed back out of the markdown).
    data: {
      type: 'ticket',
      stage: c.stage,
      ticket,
      lines: [{ title, ticketId: ticket.id, ackUrl: c.ackUrl }],
    },
  };
}

/** One entry of a digest: a notification's title, its ticket and its acknowledge link. */
export interface DigestLine {
  title: string;
  ticketId: number | null;
  ackUrl: string | null;
}

/**
 * The lines a message contributes to a digest. Ticket messages and digests carry them in
 * `data.lines`; anything else (a channel alert, a test) is one line without a ticket or link.
 */
export function digestLines(m: OutgoingMessage): DigestLine[] {
  const lines = (m.data as { lines?: unknown } | undefined)?.lines;
  if (Array.isArray(lines) && lines.every(isDigestLine)) return lines;
  return [{ title: m.title, ticketId: null, ackUrl: null }];
}

function isDigestLine(x: unknown): x is DigestLine {
  const l = x as Partial<DigestLine> | null;
  return (
    typeof l === 'object' &&
    l !== null &&
    typeof l.title === 'string' &&
    (l.ticketId === null || typeof l.ticketId === 'number') &&
    (l.ackUrl === null || typeof l.ackUrl === 'string')
  );
}

/**
 * One SMS per number: the message once per recipient's phone, each with only the people
 * of that phone (SMS is read by one person, and Alibaba Cloud counts its limits per
 * number). The key is the phone; a message where nobody has one stays whole under '' (the
 * driver then says so: no-recipient).
 */
export function splitByPhone(m: OutgoingMessage): [string, OutgoingMessage][] {
  const byPhone = new Map<string, Recipient[]>();
  for (const r of m.to) if (r.phone) byPhone.set(r.phone, [...(byPhone.get(r.phone) ?? []), r]);
  if (byPhone.size === 0) return [['', m]];
  return [...byPhone].map(([phone, to]) => [phone, { ...m, to }]);
}

const SMS_RANK: Record<string, number> = { emergency: 0, serious: 1, general: 2 };

/** Several notifications as one message: their titles as a list, everyone mentioned once. */
export function digestMessage(parts: readonly OutgoingMessage[]): OutgoingMessage {
  const language = parts[0]?.language ?? 'zh-CN';
  // A digest of digests lists the original lines, each with its own ticket's link.
  const entries = parts.flatMap(digestLines);
  const title = say(message('notify.digest-subject', { count: entries.length }), language);
  const seen = new Set<string>();
  const to: Recipient[] = [];
  for (const r of parts.flatMap((p) => p.to)) {
    const key = `${r.name}|${r.phone ?? ''}|${r.email ?? ''}`;
    if (seen.has(key)) continue;
    seen.add(key);
    to.push(r);
  }
  const lines = entries.map((l) =>
    l.ackUrl !== null ? `- ${l.title} ([✓](${l.ackUrl}))` : `- ${l.title}`,
  );
  const markdown = `**${title}**\n\n${lines.join('\n')}`;
  const ticketIds = [...new Set(parts.flatMap((p) => p.ticketIds))];
  // A merged text keeps one message's variables (its device, its ticket) with the count of
  // notifications: a template variable holds at most 35 characters, not a list. The one
  // shown is the most urgent (an emergency before a general ticket), the first of those.
  const first = parts
    .filter((p) => p.sms !== undefined)
    .sort((a, b) => (SMS_RANK[a.sms!.priority!] ?? 3) - (SMS_RANK[b.sms!.priority!] ?? 3))[0]?.sms;
  const urgent = parts.some((p) => p.urgent === true);
  return {
    kind: 'digest',
    language,
    title,
    markdown,
    text: plain(markdown),
    to,
    ...(first ? { sms: { ...first, count: String(entries.length) } } : {}),
    ticketIds,
    data: { type: 'digest', titles: entries.map((l) => l.title), ticketIds, lines: entries },
    ...(urgent ? { urgent } : {}),
  };
}

/** What a channel failing for long says through the others. */
export function channelAlertMessage(
  channel: string,
  minutes: number,
  code: string,
  detail: string,
  language: Language,
  refused = false,
): OutgoingMessage {
  const text = say(
    message('notify.channel-alert', {
      channel,
      minutes,
      code,
      message: detail,
      ...(refused ? { refused } : {}),
    }),
    language,
  );
  return {
    kind: 'channel-alert',
    language,
    title: text.split(/[(（]/)[0]!.trim(),
    markdown: text,
    text,
    to: [],
    sms: {
      priority: 'channel',
      site: '-',
      device: channel,
      fault: code,
      deadline: '-',
      count: '1',
      ticket: '-',
    } satisfies SmsVariables,
    ticketIds: [],
    data: { type: 'channel-alert', channel, minutes, code, message: detail, refused },
  };
}
