/**
 * A GET on a device's own HTTP API (Hikvision ISAPI, Dahua CGI), for the vendor drivers
 * (agent/drivers/). It goes through the one HTTP exchange of the agent (http-exchange.ts):
 * one deadline for the whole exchange, the poll's abort signal, a size limit, HTTP Digest
 * or Basic when the device challenges (no Basic after Digest), and HTTPS only over the
 * device's pinned or CA-verified path (device-tls.ts), so no credential reaches a
 * certificate the agent refuses.
 *
 * The request goes to the origin (scheme, host and port) of the device's configured
 * service address: Hikvision and Dahua serve ONVIF, ISAPI and CGI on the same web server
 * (port 80, or 443), and a device behind NAT is reached only where it is configured.
 *
 * The caller keeps an AuthMemory for this API of its own: ISAPI is a server realm of its
 * own on many firmwares (`realm="IP Camera(C6269)"` there, another for ONVIF), with its
 * own nonces, and on Hikvision and Dahua firmware its users are another list than the
 * ONVIF users.
 */
import type { KeptConnections } from './kept-http.js';
import type { Credentials } from './http-auth.js';
import {
  cannotAuthenticate,
  httpExchange,
  safeUri,
  type AuthMemory,
  type ExchangeTls,
} from './http-exchange.js';
import { decodeAnswer } from './soap.js';
import { OnvifError, type VendorAnswer } from './types.js';

/**
 * Larger than any health answer of a vendor API (a 256-channel recorder's channel list is
 * some 200 KiB): refused rather than buffered.
 */
export const MAX_VENDOR_ANSWER_BYTES = 2 * 1024 * 1024;

/**
 * What "the device lacks this path" sounds like in HTTP: 404 Not Found, 405 Method Not
 * Allowed (RFC 9110 sections 15.5.5, 15.5.6) and 501 Not Implemented (15.6.2). Vendors'
 * own ways of saying it (ISAPI's `notSupport` in a 403) are the driver's to read.
 */
const LACKING = new Set([404, 405, 501]);

export interface VendorGetOptions {
  /** The device's service address (XAddr): its origin is where the API is asked. */
  xaddr: string;
  /** An absolute path with its query, such as `/ISAPI/System/status`. */
  path: string;
  credentials: Credentials;
  /**
   * `credentials` are the device's own account (`vendor:` in the agent config), not its
   * ONVIF one: a refusal then says to check that account rather than to add one.
   */
  ownAccount?: boolean;
  auth: AuthMemory;
  tls?: ExchangeTls;
  /** The device's kept connections (http-exchange.ts deviceConnections). */
  connections?: KeptConnections;
  timeoutMs: number;
  signal?: AbortSignal;
}

/**
 * The URL of `path` at the origin of `xaddr`. Only a path is accepted: `//host/...` or
 * `http://...` would send the device's credentials to another host.
 */
export function vendorUrl(xaddr: string, path: string): string {
  if (!path.startsWith('/') || path.startsWith('//') || /[\s\\]/.test(path)) {
    throw new OnvifError('protocol-error', `not a path on the device: ${path.slice(0, 200)}`);
  }
  return `${new URL(xaddr).origin}${path}`;
}

/**
 * The GET (see OnvifClient.vendorGet): the answer, null when the device lacks the path,
 * an OnvifError when no answer came or the credentials were refused.
 */
export async function vendorGet(options: VendorGetOptions): Promise<VendorAnswer | null> {
  const url = vendorUrl(options.xaddr, options.path);
  const answer = await httpExchange({
    url,
    method: 'GET',
    headers: { Accept: 'application/xml, text/plain, */*' },
    timeoutMs: options.timeoutMs,
    maxBytes: MAX_VENDOR_ANSWER_BYTES,
    credentials: options.credentials,
    auth: options.auth,
    ...(options.tls ? { tls: options.tls } : {}),
    ...(options.connections ? { connections: options.connections } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  });
  const { status } = answer;
  const password = options.credentials.password;
  if (status === 401 && answer.authenticated) {
    // RFC 9110 section 15.5.2: a 401 to a request with credentials refuses them.
    if (options.ownAccount) {
      // The account configured for this API (`vendor:`): its name or password is wrong.
      throw new OnvifError(
        'auth-failed',
        `GET ${safeUri(url, password)} (the device's own HTTP API) refused the account set under ` +
          `"vendor:" for this device in the agent config (401): check its username and password ` +
          `against the device's own (web) users, or set "driver: onvif" for this device so that ` +
          `the agent stops asking`,
      );
    }
    // The device answered ONVIF with the same account, most likely: its own API keeps users
    // of its own on Hikvision and Dahua firmware (the ONVIF users are another list).
    throw new OnvifError(
      'auth-failed',
      `GET ${safeUri(url, password)} (the device's own HTTP API) refused the device's credentials (401): ` +
        `the account is not a user of that API or has another password there (on Hikvision and Dahua ` +
        `firmware the ONVIF users are a list of their own): add the account to the device's own users ` +
        `with the rights to read its status and storage, or give the agent the device's own account ` +
        `("vendor:" in the device's entry of the agent config), or set "driver: onvif" for this device ` +
        `so that the agent stops asking`,
    );
  }
  if (status === 401) {
    throw cannotAuthenticate(
      `GET of the device's own HTTP API`,
      url,
      answer.headers['www-authenticate'],
      options.credentials,
    );
  }
  if (LACKING.has(status)) return null;
  return { status, body: decodeAnswer(answer.body) };
}
