/**
 * Every HTTP route of the broker's API, in one place (STYLE habit 1). The broker registers
 * these paths and the console calls them; neither writes a path by hand. This module has
 * no imports on purpose: the console bundles it at runtime, and the schema modules
 * (shared/api/*.ts, which pull in TypeBox) stay out of the browser. The schema modules
 * re-export the constants that belong to them, so either import works on the server.
 */
export const apiRoutes = {
  login: '/api/auth/login',
  logout: '/api/auth/logout',
  health: '/api/health',
  /** 200 on the node that leads an active/standby pair (or a single node), 503 elsewhere. */
  healthLeader: '/api/health/leader',
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

/** Routes of the ticket desk beyond apiRoutes.tickets / apiRoutes.ticket. */
export const ticketApiRoutes = {
  actions: '/api/tickets/:id/actions',
  report: '/api/tickets/:id/report',
  reportHtml: '/api/tickets/:id/report.html',
} as const;

export function ticketActionsPath(id: number): string {
  return ticketApiRoutes.actions.replace(':id', String(id));
}

export function ticketReportPath(id: number, format: 'json' | 'html' = 'json'): string {
  const path = format === 'json' ? ticketApiRoutes.report : ticketApiRoutes.reportHtml;
  return path.replace(':id', String(id));
}

export const siteApiRoutes = {
  list: '/api/sites',
  one: '/api/sites/:site',
  device: '/api/sites/:site/devices/:device',
  import: '/api/sites/import',
  inspection: '/api/sites/:site/inspection',
  inspectionHtml: '/api/sites/:site/inspection.html',
  /**
   * Every site's roll-up state and counts (shared/api/sites.ts SiteRollup). Not under
   * /api/sites/ so that no site id can shadow it.
   */
  rollup: '/api/rollup',
} as const;

export function sitePath(site: string): string {
  return siteApiRoutes.one.replace(':site', site);
}

export function inspectionPath(site: string, period: string, html = false): string {
  const route = html ? siteApiRoutes.inspectionHtml : siteApiRoutes.inspection;
  return `${route.replace(':site', site)}?period=${encodeURIComponent(period)}`;
}

export const maintenanceApiRoutes = {
  list: '/api/maintenance',
  one: '/api/maintenance/:id',
} as const;

export function maintenancePath(id: number): string {
  return maintenanceApiRoutes.one.replace(':id', String(id));
}

export const userRoutes = {
  session: '/api/auth/session',
  users: '/api/users',
  user: '/api/users/:username',
} as const;

export function userPath(username: string): string {
  return userRoutes.user.replace(':username', encodeURIComponent(username));
}

/** Login locks (shared/api/auth.ts): the ones in force, and lifting one (admin). */
export const loginLockRoutes = {
  list: '/api/auth/locks',
  one: '/api/auth/locks/:id',
} as const;

export function loginLockPath(id: number): string {
  return loginLockRoutes.one.replace(':id', String(id));
}

export const metricRoutes = { series: '/api/metrics/series' } as const;

/** Routes of one device beyond apiRoutes.devices (shared/api/outages.ts). */
export const deviceApiRoutes = {
  /** GET: the device's reason spans per channel over a period (the outage timeline). */
  outages: '/api/devices/:id/outages',
} as const;

/** The URL of a device's outage timeline; `code` defaults to recording-stopped. */
export function deviceOutagesPath(
  id: string,
  query: { from: string; to: string; code?: string; site?: string },
): string {
  const search = new URLSearchParams({ from: query.from, to: query.to });
  if (query.code !== undefined) search.set('code', query.code);
  if (query.site !== undefined) search.set('site', query.site);
  return `${deviceApiRoutes.outages.replace(':id', encodeURIComponent(id))}?${search.toString()}`;
}

/** POST: one remote command to one agent (shared/api/commands.ts). */
export const commandRoute = '/api/sites/:site/agents/:agent/commands';

export function commandPath(siteId: string, agentId: string): string {
  return commandRoute.replace(':site', siteId).replace(':agent', agentId);
}

/** On call: people, teams, rotas, overrides, coverage (shared/api/oncall.ts). */
export const oncallApiRoutes = {
  people: '/api/oncall/people',
  person: '/api/oncall/people/:id',
  teams: '/api/oncall/teams',
  team: '/api/oncall/teams/:id',
  teamNow: '/api/oncall/teams/:id/now',
  turns: '/api/oncall/teams/:id/turns',
  rotations: '/api/oncall/teams/:id/rotations',
  rotation: '/api/oncall/teams/:id/rotations/:rotation',
  overrides: '/api/oncall/overrides',
  override: '/api/oncall/overrides/:id',
  coverage: '/api/oncall/coverage',
  coverageEntry: '/api/oncall/coverage/:id',
  /** GET ?siteId=&at=: who is on call for a site now (or at `at`), and next. */
  now: '/api/oncall/now',
} as const;

/** A route of oncallApiRoutes with its :id (and :rotation) filled in. */
export function oncallPath(
  route: Exclude<
    keyof typeof oncallApiRoutes,
    'people' | 'teams' | 'overrides' | 'coverage' | 'now'
  >,
  id: string | number,
  rotation?: number,
): string {
  const path = oncallApiRoutes[route].replace(':id', encodeURIComponent(String(id)));
  return rotation === undefined ? path : path.replace(':rotation', String(rotation));
}

/** Notification channels (shared/api/notify.ts, channels section). */
export const notifyChannelRoutes = {
  list: '/api/notify/channels',
  one: '/api/notify/channels/:id',
  test: '/api/notify/channels/:id/test',
  deliveries: '/api/notify/channels/:id/deliveries',
} as const;

/** A route of notifyChannelRoutes with the channel's id filled in. */
export function notifyChannelPath(route: 'one' | 'test' | 'deliveries', id: string): string {
  return notifyChannelRoutes[route].replace(':id', encodeURIComponent(id));
}

/** Customers and their contracts (shared/api/customers.ts). */
export const customerApiRoutes = {
  list: '/api/customers',
  one: '/api/customers/:id',
  /** GET ?period=YYYY-MM|YYYY-Qn: availability and SLA compliance over the customer's sites. */
  figures: '/api/customers/:id/figures',
} as const;

/** A route of customerApiRoutes with the customer's id filled in. */
export function customerPath(id: string, route: 'one' | 'figures' = 'one'): string {
  return customerApiRoutes[route].replace(':id', encodeURIComponent(id));
}

/**
 * Spare parts and warranty (shared/api/parts.ts, issue 16 part 7): depots and their
 * stock, a ticket's replacements and spare-part clocks, a customer's warranty expiries.
 */
export const partApiRoutes = {
  depots: '/api/depots',
  depotStock: '/api/depots/:id/stock',
  /** PUT {count}: the stock of one part model in one depot. */
  stockItem: '/api/depots/:id/stock/:model',
  replacements: '/api/tickets/:id/replacements',
  /** PATCH: record an existing replacement as a warranty repair (or correct it). */
  replacement: '/api/tickets/:id/replacements/:replacement',
  partNeeded: '/api/tickets/:id/part-needed',
  partShipped: '/api/tickets/:id/part-shipped',
  /** GET ?days=90: the customer's devices leaving warranty within the days. */
  customerWarranty: '/api/customers/:id/warranty',
} as const;

/** A route of partApiRoutes with its ids filled in. */
export function partPath(
  route: keyof typeof partApiRoutes,
  ids: { id?: string | number; model?: string; replacement?: number } = {},
): string {
  return partApiRoutes[route]
    .replace(':id', encodeURIComponent(String(ids.id ?? '')))
    .replace(':model', encodeURIComponent(ids.model ?? ''))
    .replace(':replacement', String(ids.replacement ?? ''));
}

/**
 * Issued inspection reports (shared/api/issued-reports.ts, issue 16 part 4): a period's
 * report frozen with its HTML and PDF, in versions, with the customer's sign-offs. Under
 * the site, so every route names the site whose customer may see it.
 */
export const issuedReportRoutes = {
  /** POST {period, locale?}: issue (operator or admin); GET ?period=: the site's versions. */
  site: '/api/sites/:site/inspection/issued',
  one: '/api/sites/:site/inspection/issued/:period/:version',
  html: '/api/sites/:site/inspection/issued/:period/:version/report.html',
  pdf: '/api/sites/:site/inspection/issued/:period/:version/report.pdf',
  /** POST {name, signedOn, remarks?}: the customer's sign-off of this version. */
  signOffs: '/api/sites/:site/inspection/issued/:period/:version/sign-offs',
  /** GET: every version issued to the customer, newest first. */
  customer: '/api/customers/:id/reports',
} as const;

/** A route of issuedReportRoutes filled in: the site's list, or one version's route. */
export function issuedReportPath(
  route: keyof typeof issuedReportRoutes,
  ids: { site?: string; period?: string; version?: number; customer?: string },
): string {
  return issuedReportRoutes[route]
    .replace(':site', encodeURIComponent(ids.site ?? ''))
    .replace(':period', encodeURIComponent(ids.period ?? ''))
    .replace(':version', String(ids.version ?? ''))
    .replace(':id', encodeURIComponent(ids.customer ?? ''));
}
