/**
 * What the broker says, in the current language. Ticket titles and timeline entries
 * arrive as messages with codes and are made words by the one module that does it for
 * the broker and the console alike (shared/wording/); reason codes are named by its
 * labels (the agent's own message stays available as a tooltip: it says what exactly
 * failed).
 */
import type { Message } from '../../shared/wording/messages.js';
import { catalogues, reasonLabel as labelOf, say, seenBy } from '../../shared/wording/render.js';
import type { Reason, Ticket, TimelineEntry } from './data/types.js';
import { language } from './strings.js';

export function reasonLabel(reason: Pick<Reason, 'code'>): string {
  return labelOf(reason.code, language);
}

/**
 * Who saw the reason when it is not the device itself (a camera behind an NVR: "seen by
 * NVR nvr-01"); empty when the device saw it.
 */
export function reasonWitness(reason: Pick<Reason, 'witness'>): string {
  return reason.witness ? seenBy(reason.witness, language) : '';
}

/** A ticket's (or an incident report's) title. */
export function ticketTitle(ticket: Pick<Ticket, 'titleMessage'>): string {
  // The API's schema types params loosely; the codes are shared/wording's.
  return say(ticket.titleMessage as Message, language);
}

/** What a timeline entry says. */
export function entryText(entry: Pick<TimelineEntry, 'message'>): string {
  return say(entry.message as Message, language);
}

/** A ticket clock's name by its deadline code (the spare-part clocks, docs/PARTS.md, included). */
export function deadlineName(deadline: string): string {
  return catalogues[language].labels.deadline[deadline] ?? deadline;
}
