/**
 * The console's screens by URL hash (#/tickets/17), so a link or a reload lands on the
 * same screen and the broker needs no route of its own for them.
 */
export type Route =
  | { screen: 'fleet'; siteId: string | null }
  | { screen: 'device'; deviceId: string }
  | { screen: 'tickets' }
  | { screen: 'ticket'; ticketId: number }
  | { screen: 'report'; ticketId: number }
  | { screen: 'maintenance' }
  | { screen: 'inspection'; siteId: string | null; period: string | null }
  | { screen: 'users' }
  | { screen: 'oncall' }
  | { screen: 'channels' }
  | { screen: 'customers' }
  | { screen: 'wall' }
  | { screen: 'not-found' };

export function parseRoute(hash: string): Route {
  const [path = '', search = ''] = hash.replace(/^#/, '').split('?');
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  const params = new URLSearchParams(search);
  const [head, id, tail] = parts;
  switch (head) {
    case undefined:
    case 'fleet':
      return { screen: 'fleet', siteId: id ?? null };
    case 'devices':
      return id === undefined
        ? { screen: 'fleet', siteId: null }
        : { screen: 'device', deviceId: id };
    case 'tickets': {
      if (id === undefined) return { screen: 'tickets' };
      const ticketId = Number(id);
      if (!Number.isInteger(ticketId) || ticketId < 1) return { screen: 'not-found' };
      return tail === 'report' ? { screen: 'report', ticketId } : { screen: 'ticket', ticketId };
    }
    case 'maintenance':
      return { screen: 'maintenance' };
    case 'inspection':
      return { screen: 'inspection', siteId: params.get('site'), period: params.get('period') };
    case 'users':
      return { screen: 'users' };
    case 'oncall':
      return { screen: 'oncall' };
    case 'channels':
      return { screen: 'channels' };
    case 'customers':
      return { screen: 'customers' };
    case 'wall':
      return { screen: 'wall' };
    default:
      return { screen: 'not-found' };
  }
}

/** The hash of a screen, for links. */
export const href = {
  fleet: (siteId?: string) =>
    siteId === undefined ? '#/fleet' : `#/fleet/${encodeURIComponent(siteId)}`,
  device: (id: string) => `#/devices/${encodeURIComponent(id)}`,
  tickets: () => '#/tickets',
  ticket: (id: number) => `#/tickets/${id}`,
  report: (id: number) => `#/tickets/${id}/report`,
  maintenance: () => '#/maintenance',
  inspection: (siteId?: string, period?: string) => {
    const q = new URLSearchParams();
    if (siteId !== undefined) q.set('site', siteId);
    if (period !== undefined) q.set('period', period);
    const text = q.toString();
    return text === '' ? '#/inspection' : `#/inspection?${text}`;
  },
  users: () => '#/users',
  oncall: () => '#/oncall',
  channels: () => '#/channels',
  customers: () => '#/customers',
  wall: () => '#/wall',
};
