/**
 * The acknowledge link of a notification (broker/notify/ack-link.ts), without a console
 * login: GET /ack/<token> answers a page with the ticket's summary and a button, in the
 * language of the person the link was sent to; only the button's POST acknowledges, in
 * that person's name, through the ticket desk's own acknowledge step. Chat apps fetch
 * links for their previews (DingTalk, WeCom, Feishu all unfurl URLs), so a GET must not
 * use the link up. A used, expired or forged link says so.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Ticket } from '../../shared/api/tickets.js';
import { VigilError } from '../../shared/errors.js';
import { bare, message, type Message } from '../../shared/wording/messages.js';
import { say, type WordingLocale } from '../../shared/wording/render.js';
import type { AckCheck } from '../notify/ack-link.js';
import { localTime } from '../notify/compose.js';
import type { OnCallDirectory, Person } from '../notify/deps.js';
import type { Escalations } from '../notify/escalation.js';
import type { TicketService } from '../tickets/types.js';
import { escapeHtml } from '../tickets/report.js';

/**
 * A wildcard, not `:token`: the router refuses a parameter over 100 characters (414), and
 * a signed token with a person's id is longer.
 */
export const ackRoute = '/ack/*';

/** The token of the path (no params schema: the validator would read "*" as a pattern). */
const tokenOf = (params: unknown): string => String((params as { '*'?: unknown })['*'] ?? '');
/** The form's name field, when the link names nobody; a POST may come without a body. */
const nameOf = (body: unknown): string | undefined => {
  const name = (body as { name?: unknown } | null | undefined)?.name;
  return typeof name === 'string' ? name.trim().slice(0, 100) : undefined;
};

function page(locale: WordingLocale, heading: string, body: string): string {
  return `<!doctype html>
<html lang="${locale}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>${escapeHtml(heading)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:36rem;margin:2rem auto;padding:0 1rem;line-height:1.5}
button{font-size:1.2rem;padding:.6rem 1.6rem}input{font-size:1rem;padding:.3rem}dt{font-weight:600}</style>
</head><body><h1>${escapeHtml(heading)}</h1>
${body}
</body></html>`;
}

export const ackRoutes: FastifyPluginAsyncTypebox<{
  escalations: Escalations;
  tickets: TicketService;
  directory: OnCallDirectory;
}> = async (app, { escalations, tickets, directory }) => {
  // The button posts an HTML form; fastify parses JSON only (this plugin's scope alone).
  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string' },
    (_request, body, done) => done(null, Object.fromEntries(new URLSearchParams(String(body)))),
  );

  const localeOf = (check: AckCheck): WordingLocale => {
    const id = check.claims?.personId;
    return (id ? directory.person(id)?.language : undefined) ?? 'zh-CN';
  };
  const said = (m: Message, locale: WordingLocale) => say(m, locale);

  const refusal = (check: Extract<AckCheck, { ok: false }>, locale: WordingLocale) => {
    const text = said(bare(`ack.${check.reason}`), locale);
    return page(locale, text, `<p>${escapeHtml(text)}</p>`);
  };

  /** When it opened, as the team reads it (its zone, with the offset), not raw UTC. */
  const opened = (ticket: Ticket): string => {
    let zone = 'Asia/Shanghai';
    try {
      zone = directory.onCall(ticket.siteId, new Date()).team?.timeZone ?? zone;
    } catch {
      // The rota store unreadable: Beijing time, still with its offset.
    }
    return localTime(ticket.openedAt, zone);
  };

  const summary = (ticket: Ticket, locale: WordingLocale) =>
    `<dl><dt>${escapeHtml(say(ticket.titleMessage as Message, locale))}</dt>
<dd>${escapeHtml(ticket.siteId)}${ticket.deviceId ? ` / ${escapeHtml(ticket.deviceId)}` : ''} · ${escapeHtml(ticket.priority)} · ${escapeHtml(opened(ticket))}</dd></dl>`;

  const already = (ticket: Ticket, locale: WordingLocale) => {
    const text = said(
      message('ack.already', { status: ticket.status, by: ticket.respondedBy }),
      locale,
    );
    return page(
      locale,
      said(message('ack.heading', { id: ticket.id }), locale),
      `${summary(ticket, locale)}<p>${escapeHtml(text)}</p>`,
    );
  };

  /** The summary and the button; a link that names nobody asks for a name. */
  const formPage = (ticket: Ticket, locale: WordingLocale, person: Person | undefined) => {
    const nameField =
      person === undefined
        ? `<p><label>${escapeHtml(said(bare('ack.name'), locale))} <input name="name" required maxlength="100"></label></p>`
        : `<p>${escapeHtml(person.name)}</p>`;
    return page(
      locale,
      said(message('ack.heading', { id: ticket.id }), locale),
      `${summary(ticket, locale)}
<form method="post">${nameField}<button type="submit">${escapeHtml(said(bare('ack.button'), locale))}</button></form>`,
    );
  };

  app.get(ackRoute, { schema: { hide: true } }, async (request, reply) => {
    reply.type('text/html; charset=utf-8').header('cache-control', 'no-store');
    const check = await escalations.acks.check(tokenOf(request.params));
    const locale = localeOf(check);
    if (!check.ok)
      return reply.status(check.reason === 'invalid' ? 404 : 410).send(refusal(check, locale));
    const ticket = await tickets.get(check.claims.ticketId);
    if (ticket === undefined)
      return reply.status(404).send(refusal({ ok: false, reason: 'invalid' }, locale));
    if (ticket.status !== 'open') return already(ticket, locale);
    const person = check.claims.personId ? directory.person(check.claims.personId) : undefined;
    return formPage(ticket, locale, person);
  });

  app.post(ackRoute, { schema: { hide: true } }, async (request, reply) => {
    reply.type('text/html; charset=utf-8').header('cache-control', 'no-store');
    const token = tokenOf(request.params);
    const check = await escalations.acks.check(token);
    const locale = localeOf(check);
    if (!check.ok)
      return reply.status(check.reason === 'invalid' ? 404 : 410).send(refusal(check, locale));
    const ticket = await tickets.get(check.claims.ticketId);
    if (ticket === undefined)
      return reply.status(404).send(refusal({ ok: false, reason: 'invalid' }, locale));
    if (ticket.status !== 'open') return reply.status(409).send(already(ticket, locale));
    const person = check.claims.personId ? directory.person(check.claims.personId) : undefined;
    // The person's console account if they have one, so the desk shows one name for them.
    const actor = person?.userName ?? person?.name ?? nameOf(request.body);
    // Answered as pages, not thrown: the API's log line of a failed request names its
    // path, and the path holds the token.
    if (!actor) return reply.status(400).send(formPage(ticket, locale, person));
    const redeemed = await escalations.acks.redeem(token, actor);
    if (!redeemed.ok) return reply.status(410).send(refusal(redeemed, locale));
    let done: Ticket;
    try {
      done = await tickets.act(ticket.id, { action: 'acknowledge' }, actor);
    } catch (error) {
      // Someone acknowledged it in the console between our look and our step.
      if (error instanceof VigilError && error.code === 'VIGIL_CONFLICT') {
        return reply.status(409).send(already((await tickets.get(ticket.id)) ?? ticket, locale));
      }
      request.log.error(
        `acknowledging ticket ${ticket.id} from a notification link failed: ${error instanceof Error ? error.message : String(error)}`,
      );
      return reply.status(500).send(refusal({ ok: false, reason: 'invalid' }, locale));
    }
    const text = said(message('ack.done', { by: person?.name ?? actor }), locale);
    return page(
      locale,
      said(message('ack.heading', { id: done.id }), locale),
      `${summary(done, locale)}<p>${escapeHtml(text)}</p>`,
    );
  });
};
