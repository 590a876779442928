/**
 * Every HTTP route of the broker's API, with its schemas. The broker registers these
 * paths and the console calls them; neither writes a path by hand.
 */
export const apiRoutes = {
  login: '/api/auth/login',
  logout: '/api/auth/logout',
  health: '/api/health',
  /** The broker's own figures: MQTT, journal, pipeline, metrics writer. */
  broker: '/api/broker',
  devices: '/api/devices',
  tickets: '/api/tickets',
  /** One ticket with its timeline; build the URL with ticketPath(id). */
  ticket: '/api/tickets/:id',
  live: '/api/live',
  openapi: '/api/openapi.json',
} as const;

/** The URL of one ticket: apiRoutes.ticket with its id. */
export function ticketPath(id: number): string {
  return apiRoutes.ticket.replace(':id', String(id));
}
