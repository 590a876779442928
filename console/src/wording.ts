/**
 * Texts built from the API's fields in the current language. The broker writes ticket
 * titles and reason messages in English; in another language the console composes the
 * title from the ticket's fault and device, and names a reason by its code (the agent's
 * English message stays available as a tooltip: it says what exactly failed).
 */
import type { Device, Reason, Ticket } from './data/types.js';
import { strings } from './strings.js';

export function reasonLabel(reason: Pick<Reason, 'code'>): string {
  return strings.reasons[reason.code] ?? reason.code;
}

export function ticketTitle(
  ticket: Pick<Ticket, 'title' | 'deviceId' | 'siteId' | 'fault'>,
  devices: ReadonlyMap<string, Device>,
): string {
  if (strings.locale === 'en') return ticket.title;
  const f = strings.faults;
  const device = ticket.deviceId === null ? undefined : devices.get(ticket.deviceId);
  const who =
    device === undefined
      ? (ticket.deviceId ?? ticket.siteId)
      : f.device(strings.devices.kind[device.kind], device.name, device.id);
  if (ticket.fault === 'device-down') return f.deviceDown(who);
  if (ticket.fault === 'site-unreachable') return f.siteUnreachable(ticket.siteId);
  if (ticket.fault === 'site-outage') return f.siteOutage(ticket.siteId);
  if (ticket.fault === 'flapping') return f.flapping(who);
  if (ticket.fault.startsWith('degraded:')) {
    return f.degraded(who, reasonLabel({ code: ticket.fault.slice(9) as Reason['code'] }));
  }
  return ticket.title;
}
