/**
 * Every HTTP route of the broker's API, with its schemas. The broker registers these
 * paths and the console calls them; neither writes a path by hand.
 */
export const apiRoutes = {
  login: '/api/auth/login',
  logout: '/api/auth/logout',
  health: '/api/health',
  devices: '/api/devices',
  tickets: '/api/tickets',
  live: '/api/live',
  openapi: '/api/openapi.json',
} as const;
