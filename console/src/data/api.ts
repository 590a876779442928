/**
 * The console's HTTP client: the only code that calls `fetch`. Paths come from
 * shared/api/routes.ts and bodies follow shared/api/*.ts.
 *
 * Authentication: POST /api/auth/login sets the HttpOnly session cookie, which the
 * browser sends with every same-origin request (and with the live stream, which cannot
 * carry headers). The token of the answer is also kept in memory, never in storage, and
 * sent as `Authorization: Bearer`; after a page reload only the cookie remains, which
 * is enough.
 */
// Only routes.ts at runtime: the schema modules would bring TypeBox into the bundle.
import {
  apiRoutes,
  commandPath,
  customerApiRoutes,
  customerPath,
  partPath,
  deviceOutagesPath,
  inspectionPath,
  issuedReportPath,
  loginLockPath,
  loginLockRoutes,
  maintenanceApiRoutes,
  maintenancePath,
  metricRoutes,
  notifyChannelPath,
  notifyChannelRoutes,
  oncallApiRoutes,
  oncallPath,
  siteApiRoutes,
  sitePath,
  ticketActionsPath,
  ticketPath,
  ticketReportPath,
  userPath,
  userRoutes,
} from '../../../shared/api/routes.js';
import { strings } from '../strings.js';
import type {
  ApiErrorBody,
  CommandRequest,
  CommandResult,
  Customer,
  CustomerCreate,
  CustomerFigures,
  CustomerWarranty,
  CustomerPatch,
  Device,
  DeviceOutages,
  IncidentReport,
  InspectionReport,
  IssuedReportSummary,
  Locale,
  LoginLock,
  LoginRequest,
  LoginResponse,
  MaintenanceWindow,
  ManualTicketRequest,
  MetricSeries,
  NewNotifyChannel,
  NotifyChannel,
  NotifyChannelPatch,
  NotifyChannelDelivery,
  NotifyChannelTestResult,
  NewMaintenance,
  OnCallCoverage,
  OnCallCoverageWrite,
  OnCallNow,
  OnCallOverride,
  OnCallOverrideWrite,
  OnCallPerson,
  OnCallPersonCreate,
  OnCallPersonPatch,
  OnCallRotation,
  OnCallRotationWrite,
  OnCallTeam,
  OnCallTeamCreate,
  OnCallTeamPatch,
  OnCallTurn,
  SessionInfo,
  Site,
  SiteRollup,
  Ticket,
  TicketAction,
  TicketScope,
  UserSummary,
  UserWrite,
} from './types.js';

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** Query values: undefined ones are left out. */
function query(params: Record<string, string | number | undefined>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined) search.set(key, String(value));
  }
  const text = search.toString();
  return text === '' ? '' : `?${text}`;
}

/** Codes for failures that never got an answer from the API; the rest are shared/errors.ts codes. */
export type ClientErrorCode = 'CONSOLE_NETWORK' | 'CONSOLE_BAD_RESPONSE' | `HTTP_${number}`;

/** A request that failed: the API's `{code, message}` or what the console could tell. */
export class ApiRequestError extends Error {
  readonly code: string;
  /** HTTP status, 0 when no answer arrived. */
  readonly status: number;
  readonly details: string[];
  /** The whole error answer, for codes that carry more (VIGIL_AUTH_LOCKED's `lock`). */
  readonly body: unknown;

  constructor(
    code: string,
    message: string,
    status: number,
    details: string[] = [],
    body: unknown = null,
  ) {
    super(message);
    this.name = 'ApiRequestError';
    this.code = code;
    this.status = status;
    this.details = details;
    this.body = body;
  }

  /** The session is missing or over: the user has to sign in (again). */
  get needsLogin(): boolean {
    return this.status === 401 || this.code === 'VIGIL_AUTH_REQUIRED';
  }
}

function isErrorBody(value: unknown): value is ApiErrorBody {
  if (typeof value !== 'object' || value === null) return false;
  const body = value as Record<string, unknown>;
  return typeof body.code === 'string' && typeof body.message === 'string';
}

export class ApiClient {
  private readonly base: string;
  private token: string | null;

  /** `base` prefixes every path; empty means the page's own origin (the broker serves both). */
  constructor(base = '') {
    this.base = base;
    this.token = null;
  }

  async login(request: LoginRequest): Promise<LoginResponse> {
    const answer = await this.request<LoginResponse>('POST', apiRoutes.login, request);
    if (typeof answer?.token !== 'string') throw this.badResponse();
    this.token = answer.token;
    return answer;
  }

  /** Ends the session on the server; the local token is dropped whatever the answer. */
  async logout(): Promise<void> {
    try {
      await this.request<unknown>('POST', apiRoutes.logout);
    } catch (error) {
      // Already signed out (expired cookie) is the outcome we wanted.
      if (!(error instanceof ApiRequestError && error.needsLogin)) throw error;
    } finally {
      this.token = null;
    }
  }

  async fetchDevices(): Promise<Device[]> {
    const list = await this.request<Device[]>('GET', apiRoutes.devices);
    if (!Array.isArray(list)) throw this.badResponse();
    return list;
  }

  async fetchTickets(scope: TicketScope = 'open'): Promise<Ticket[]> {
    const query = new URLSearchParams({ status: scope });
    const list = await this.request<Ticket[]>('GET', `${apiRoutes.tickets}?${query}`);
    if (!Array.isArray(list)) throw this.badResponse();
    return list;
  }

  async fetchTicket(id: number): Promise<Ticket> {
    return this.request<Ticket>('GET', ticketPath(id));
  }

  /** Tickets of one device or site, open and past (newest first). */
  async fetchTicketsOf(filter: { deviceId?: string; siteId?: string }): Promise<Ticket[]> {
    const path = `${apiRoutes.tickets}${query({ status: 'all', limit: 200, ...filter })}`;
    return this.request<Ticket[]>('GET', path);
  }

  /** Opens a manual ticket for a fault a person reports (201 with the ticket). */
  async openTicket(report: ManualTicketRequest): Promise<Ticket> {
    return this.request<Ticket>('POST', apiRoutes.tickets, report);
  }

  async ticketAction(id: number, action: TicketAction): Promise<Ticket> {
    return this.request<Ticket>('POST', ticketActionsPath(id), action);
  }

  async fetchIncidentReport(id: number): Promise<IncidentReport> {
    return this.request<IncidentReport>('GET', ticketReportPath(id));
  }

  async fetchSession(): Promise<SessionInfo> {
    return this.request<SessionInfo>('GET', userRoutes.session);
  }

  async saveLocale(locale: Locale): Promise<SessionInfo> {
    return this.request<SessionInfo>('PATCH', userRoutes.session, { locale });
  }

  /** The screens' zone for this user (an IANA name), or null for the browser's. */
  async saveTimeZone(timeZone: string | null): Promise<SessionInfo> {
    return this.request<SessionInfo>('PATCH', userRoutes.session, { timeZone });
  }

  async fetchUsers(): Promise<UserSummary[]> {
    return this.request<UserSummary[]>('GET', userRoutes.users);
  }

  async saveUser(username: string, user: UserWrite): Promise<UserSummary> {
    return this.request<UserSummary>('PUT', userPath(username), user);
  }

  async deleteUser(username: string): Promise<void> {
    await this.request<unknown>('DELETE', userPath(username));
  }

  /** The login locks in force (admin; docs/PORTAL-SECURITY.md). */
  async fetchLoginLocks(): Promise<LoginLock[]> {
    return this.request<LoginLock[]>('GET', loginLockRoutes.list);
  }

  async liftLoginLock(id: number): Promise<void> {
    await this.request<unknown>('DELETE', loginLockPath(id));
  }

  // --- on call (shared/api/oncall.ts): reads for everyone, writes for admins ---

  async fetchPeople(): Promise<OnCallPerson[]> {
    return this.request<OnCallPerson[]>('GET', oncallApiRoutes.people);
  }

  async createPerson(person: OnCallPersonCreate): Promise<OnCallPerson> {
    return this.request<OnCallPerson>('POST', oncallApiRoutes.people, person);
  }

  async updatePerson(id: string, patch: OnCallPersonPatch): Promise<OnCallPerson> {
    return this.request<OnCallPerson>('PATCH', oncallPath('person', id), patch);
  }

  async deletePerson(id: string): Promise<void> {
    await this.request<unknown>('DELETE', oncallPath('person', id));
  }

  async fetchTeams(): Promise<OnCallTeam[]> {
    return this.request<OnCallTeam[]>('GET', oncallApiRoutes.teams);
  }

  async createTeam(team: OnCallTeamCreate): Promise<OnCallTeam> {
    return this.request<OnCallTeam>('POST', oncallApiRoutes.teams, team);
  }

  async updateTeam(id: string, patch: OnCallTeamPatch): Promise<OnCallTeam> {
    return this.request<OnCallTeam>('PATCH', oncallPath('team', id), patch);
  }

  async deleteTeam(id: string): Promise<void> {
    await this.request<unknown>('DELETE', oncallPath('team', id));
  }

  /** Who is on call for the team now, until when, and next. */
  async fetchTeamOnCall(id: string): Promise<Omit<OnCallNow, 'siteId'>> {
    return this.request<Omit<OnCallNow, 'siteId'>>('GET', oncallPath('teamNow', id));
  }

  /** Who is on call for a site now: its team by coverage, the engineer, next. */
  async fetchSiteOnCall(siteId: string): Promise<OnCallNow> {
    return this.request<OnCallNow>('GET', `${oncallApiRoutes.now}${query({ siteId })}`);
  }

  /** Who is on call for the team when, over the next `days` (14). */
  async fetchTurns(teamId: string, days = 14): Promise<OnCallTurn[]> {
    return this.request<OnCallTurn[]>('GET', `${oncallPath('turns', teamId)}${query({ days })}`);
  }

  async fetchRotations(teamId: string): Promise<OnCallRotation[]> {
    return this.request<OnCallRotation[]>('GET', oncallPath('rotations', teamId));
  }

  async createRotation(teamId: string, rotation: OnCallRotationWrite): Promise<OnCallRotation> {
    return this.request<OnCallRotation>('POST', oncallPath('rotations', teamId), rotation);
  }

  async deleteRotation(teamId: string, id: number): Promise<void> {
    await this.request<unknown>('DELETE', oncallPath('rotation', teamId, id));
  }

  /** Overrides in force or ahead. */
  async fetchOverrides(teamId: string): Promise<OnCallOverride[]> {
    return this.request<OnCallOverride[]>(
      'GET',
      `${oncallApiRoutes.overrides}${query({ teamId })}`,
    );
  }

  async createOverride(override: OnCallOverrideWrite): Promise<OnCallOverride> {
    return this.request<OnCallOverride>('POST', oncallApiRoutes.overrides, override);
  }

  async deleteOverride(id: number): Promise<void> {
    await this.request<unknown>('DELETE', oncallPath('override', id));
  }

  async fetchCoverage(): Promise<OnCallCoverage[]> {
    return this.request<OnCallCoverage[]>('GET', oncallApiRoutes.coverage);
  }

  async setCoverage(entry: OnCallCoverageWrite): Promise<OnCallCoverage> {
    return this.request<OnCallCoverage>('POST', oncallApiRoutes.coverage, entry);
  }

  async deleteCoverage(id: number): Promise<void> {
    await this.request<unknown>('DELETE', oncallPath('coverageEntry', id));
  }

  async fetchSites(): Promise<Site[]> {
    return this.request<Site[]>('GET', siteApiRoutes.list);
  }

  /** Every site's roll-up state and counts, as the broker computes them. */
  /** Gives a site to a customer, or to none (admin): PUT /api/sites/:site {customerId}. */
  async setSiteCustomer(siteId: string, customerId: string | null): Promise<Site> {
    return this.request<Site>('PUT', sitePath(siteId), { customerId });
  }

  async fetchRollup(): Promise<SiteRollup[]> {
    return this.request<SiteRollup[]>('GET', siteApiRoutes.rollup);
  }

  async fetchMaintenance(include: 'current' | 'all' = 'current'): Promise<MaintenanceWindow[]> {
    return this.request<MaintenanceWindow[]>(
      'GET',
      `${maintenanceApiRoutes.list}${query({ include })}`,
    );
  }

  async createMaintenance(window: NewMaintenance): Promise<MaintenanceWindow> {
    return this.request<MaintenanceWindow>('POST', maintenanceApiRoutes.list, window);
  }

  /** Ends a window now (its end moves to the broker's present). */
  async endMaintenance(id: number, at: string): Promise<MaintenanceWindow> {
    return this.request<MaintenanceWindow>('PATCH', maintenancePath(id), { endsAt: at });
  }

  async fetchInspection(site: string, period: string): Promise<InspectionReport> {
    return this.request<InspectionReport>('GET', inspectionPath(site, period));
  }

  /** The printable HTML of the broker, for a link. */
  inspectionHtmlUrl(site: string, period: string): string {
    return `${this.base}${inspectionPath(site, period, true)}`;
  }

  async fetchSeries(params: {
    device: string;
    field: string;
    from: string;
    to: string;
  }): Promise<MetricSeries> {
    const path = `${metricRoutes.series}${query({ measurement: 'device', ...params })}`;
    return this.request<MetricSeries>('GET', path);
  }

  /** A device's outage timeline over a period (shared/api/outages.ts). */
  async fetchOutages(
    deviceId: string,
    params: { from: string; to: string; code?: string; site?: string },
  ): Promise<DeviceOutages> {
    return this.request<DeviceOutages>('GET', deviceOutagesPath(deviceId, params));
  }

  /**
   * A remote command to the device's agent (poll the device now, rediscover the site's
   * network); resolves with the agent's answer once it ran.
   */
  async sendCommand(device: Device, command: 'poll-now' | 'rediscover'): Promise<CommandResult> {
    const body: CommandRequest =
      command === 'poll-now' ? { command, deviceId: device.id } : { command };
    return this.request<CommandResult>('POST', commandPath(device.siteId, device.agentId), body);
  }

  /**
   * Accepts the HTTPS certificate a device now presents (`fingerprint`, as its
   * certificate-changed reason names it) in place of the pinned one; the broker audits it.
   */
  async trustCertificate(device: Device, fingerprint: string): Promise<CommandResult> {
    const body: CommandRequest = { command: 'trust-certificate', deviceId: device.id, fingerprint };
    return this.request<CommandResult>('POST', commandPath(device.siteId, device.agentId), body);
  }

  // --- customers and their contracts (shared/api/customers.ts): admin writes ---

  async fetchCustomers(): Promise<Customer[]> {
    return this.request<Customer[]>('GET', customerApiRoutes.list);
  }

  async createCustomer(customer: CustomerCreate): Promise<Customer> {
    return this.request<Customer>('POST', customerApiRoutes.list, customer);
  }

  async updateCustomer(id: string, patch: CustomerPatch): Promise<Customer> {
    return this.request<Customer>('PATCH', customerPath(id), patch);
  }

  /** Availability and SLA compliance over the customer's sites in a period of its zone. */
  async fetchCustomerFigures(id: string, period: string): Promise<CustomerFigures> {
    return this.request<CustomerFigures>(
      'GET',
      `${customerPath(id, 'figures')}${query({ period })}`,
    );
  }

  /** The customer's devices leaving warranty within `days` (shared/api/parts.ts). */
  async fetchCustomerWarranty(id: string, days = 90): Promise<CustomerWarranty> {
    return this.request<CustomerWarranty>(
      'GET',
      `${partPath('customerWarranty', { id })}${query({ days })}`,
    );
  }

  // --- issued inspection reports (shared/api/issued-reports.ts, issue 16 part 4) ---

  /** Every version issued to the customer, newest first, with its sign-offs. */
  async fetchIssuedReports(customerId: string): Promise<IssuedReportSummary[]> {
    return this.request<IssuedReportSummary[]>(
      'GET',
      issuedReportPath('customer', { customer: customerId }),
    );
  }

  /** Freezes the period's report as its next version (operator or admin; chromium prints it). */
  async issueReport(site: string, period: string): Promise<IssuedReportSummary> {
    return this.request<IssuedReportSummary>('POST', issuedReportPath('site', { site }), {
      period,
    });
  }

  async signOffReport(
    report: { siteId: string; period: string; version: number },
    signOff: { name: string; signedOn: string; remarks: string },
  ): Promise<void> {
    const ids = { site: report.siteId, period: report.period, version: report.version };
    await this.request<unknown>('POST', issuedReportPath('signOffs', ids), signOff);
  }

  /** The address of an issued version's PDF or page: a link the session cookie opens. */
  issuedReportUrl(
    report: { siteId: string; period: string; version: number },
    format: 'pdf' | 'html',
  ): string {
    const ids = { site: report.siteId, period: report.period, version: report.version };
    return `${this.base}${issuedReportPath(format, ids)}`;
  }

  // --- notification channels (shared/api/notify.ts): admin only ---

  async fetchChannels(): Promise<NotifyChannel[]> {
    return this.request<NotifyChannel[]>('GET', notifyChannelRoutes.list);
  }

  async createChannel(channel: NewNotifyChannel): Promise<NotifyChannel> {
    return this.request<NotifyChannel>('POST', notifyChannelRoutes.list, channel);
  }

  async updateChannel(id: string, patch: NotifyChannelPatch): Promise<NotifyChannel> {
    return this.request<NotifyChannel>('PATCH', notifyChannelPath('one', id), patch);
  }

  async deleteChannel(id: string): Promise<void> {
    await this.request<unknown>('DELETE', notifyChannelPath('one', id));
  }

  /** 200 delivered; the service's refusal arrives as a 502 ApiRequestError (data/channels.ts). */
  async testChannel(
    id: string,
    to: { phone?: string; email?: string },
  ): Promise<NotifyChannelTestResult> {
    return this.request<NotifyChannelTestResult>('POST', notifyChannelPath('test', id), to);
  }

  /** A channel's newest notifications and what became of each (no texts: they hold live links). */
  async fetchChannelDeliveries(id: string): Promise<NotifyChannelDelivery[]> {
    return this.request<NotifyChannelDelivery[]>(
      'GET',
      `${notifyChannelPath('deliveries', id)}${query({ limit: 20 })}`,
    );
  }

  /** URL of the server-sent events stream (authenticated by the cookie). */
  liveUrl(): string {
    return `${this.base}${apiRoutes.live}`;
  }

  private async request<T>(method: Method, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { Accept: 'application/json' };
    if (this.token !== null) headers.Authorization = `Bearer ${this.token}`;
    // Only a request with a body says it is JSON: fastify refuses an empty JSON body.
    if (body !== undefined) headers['Content-Type'] = 'application/json';

    let response: Response;
    try {
      response = await fetch(`${this.base}${path}`, {
        method,
        headers,
        credentials: 'same-origin',
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch {
      throw new ApiRequestError('CONSOLE_NETWORK', strings.errors.network, 0);
    }

    const text = await response.text();
    let parsed: unknown = undefined;
    if (text !== '') {
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = undefined;
      }
    }

    if (!response.ok) {
      if (isErrorBody(parsed)) {
        const { code, message, details } = parsed;
        throw new ApiRequestError(code, message, response.status, details, parsed);
      }
      const code: ClientErrorCode = `HTTP_${response.status}`;
      throw new ApiRequestError(code, strings.errors.http(response.status), response.status);
    }
    if (text !== '' && parsed === undefined) throw this.badResponse(response.status);
    return parsed as T;
  }

  private badResponse(status = 200): ApiRequestError {
    return new ApiRequestError('CONSOLE_BAD_RESPONSE', strings.errors.badResponse, status);
  }
}
