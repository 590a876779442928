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
import { apiRoutes } from '../../../shared/api/routes.js';
import { strings } from '../strings.js';
import type {
  ApiErrorBody,
  Device,
  LoginRequest,
  LoginResponse,
  Ticket,
  TicketScope,
} from './types.js';

/** Codes for failures that never got an answer from the API; the rest are shared/errors.ts codes. */
export type ClientErrorCode = 'CONSOLE_NETWORK' | 'CONSOLE_BAD_RESPONSE' | `HTTP_${number}`;

/** A request that failed: the API's `{code, message}` or what the console could tell. */
export class ApiRequestError extends Error {
  readonly code: string;
  /** HTTP status, 0 when no answer arrived. */
  readonly status: number;
  readonly details: string[];

  constructor(code: string, message: string, status: number, details: string[] = []) {
    super(message);
    this.name = 'ApiRequestError';
    this.code = code;
    this.status = status;
    this.details = details;
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

  /** URL of the server-sent events stream (authenticated by the cookie). */
  liveUrl(): string {
    return `${this.base}${apiRoutes.live}`;
  }

  private async request<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
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
        throw new ApiRequestError(parsed.code, parsed.message, response.status, parsed.details);
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
