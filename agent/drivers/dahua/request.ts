/**
 * One CGI request of the Dahua driver (../types.ts askVendor: the device's own client,
 * HTTP Digest with the device's account, its HTTPS pin and the poll's deadline), and what
 * the answer means before any parser reads it.
 *
 * Dahua firmware answers a request without credentials `401` with
 * `WWW-Authenticate: Digest realm="Login to <serial>",qop="auth",nonce="…",opaque="",
 * stale="false"` (MD5, qop=auth: the form real answers quoted in public projects show),
 * which the exchange answers; a 401 after credentials is thrown as auth-failed by
 * `vendorGet` and never retried here (Dahua locks an account after 5 failed logins, for 30
 * minutes, ONVIF and web alike; ../../poll.ts spaces out the next try).
 *
 * After credentials, Dahua HTTP API ("HTTP API Transaction"): `200` with `key=value` lines
 * is data. An action the firmware lacks is `400` with `Error` / `Bad Request!` (some
 * firmware `200` with the same text), or `404` / `501` (newer units: "Not Implemented!"):
 * remembered as lacking for an hour (../types.ts). `Error` / `Invalid Authority!` (or
 * another text naming authority, privilege or permission) is an account without the
 * right: a refusal, like a 401. Any other status is the device's failure of this request.
 */
import type { CheckContext } from '../../checks/types.js';
import { OnvifError } from '../../onvif/types.js';
import { askVendor, markLacking } from '../types.js';
import { cgiErrorText, isCgiError } from './cgi.js';

const REFUSED = /authorit|privilege|permission|forbidden|not allowed/i;

/**
 * The body of a data answer to `path`; null when the device has no Dahua CGI or lacks this
 * action. Throws an OnvifError otherwise (auth-failed for an account without the right,
 * protocol-error for any other refusal): ../types.ts vendorAttempt reads it.
 */
export async function cgiGet(context: CheckContext, path: string): Promise<string | null> {
  const answer = await askVendor(context, path);
  if (!answer) return null;
  const { status, body } = answer;
  const ok = status >= 200 && status <= 299;
  const error = isCgiError(body);
  if (ok && !error) return body;
  const said = error ? cgiErrorText(body) : '';
  if (REFUSED.test(said) || status === 403) {
    throw new OnvifError(
      'auth-failed',
      `Dahua HTTP API ${path.split('?')[0]} refused the monitoring account (HTTP ${status}${said ? `, ${said}` : ''}): give the account the right on the recorder (System > Account), or give the agent an account that has it ("vendor:" in the device's entry of the agent config)`,
    );
  }
  if (status === 400 || (ok && error)) {
    // Dahua's own "not supported": an action this firmware lacks.
    markLacking(context, path);
    return null;
  }
  throw new OnvifError(
    'protocol-error',
    `Dahua HTTP API ${path.split('?')[0]} answered HTTP ${status}${said ? ` (${said})` : ''}`,
  );
}
