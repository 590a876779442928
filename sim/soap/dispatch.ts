/**
 * One SOAP request in, one answer out: parse the envelope, find the operation, check the
 * UsernameToken when the operation needs it, run it. Pure apart from the nonce cache
 * (and whatever the operation's context holds), so it is tested without sockets; the
 * HTTP side lives in http.ts.
 */
import { faultAnswer, resultAnswer, type SoapAnswer } from './answer.js';
import type { LoginGate } from '../lockout.js';
import {
  checkUsernameToken,
  WRONG_PASSWORD,
  type AuthResult,
  type Credentials,
  type NonceCache,
} from './auth.js';
import { parseEnvelope } from './envelope.js';
import { faults, SoapFaultError } from './fault.js';
import type { XmlElement } from './xml.js';

/**
 * ONVIF Core 5.12 access classes, reduced to what a device decides: PRE_AUTH operations
 * answer anyone; every other class needs an authenticated user.
 */
export type Access = 'pre-auth' | 'user';

export interface Operation<Context> {
  name: string;
  access: Access;
  /** Namespace of the request element when it is not the service's (wsnt:Renew). */
  ns?: string;
  /** Returns the Body content of the answer, or throws SoapFaultError. */
  handle(request: XmlElement, context: Context): string | Promise<string>;
}

export interface SoapService<Context> {
  /** HTTP path of the service's XAddr, e.g. /onvif/device_service; a prefix if it ends in '/'. */
  path: string;
  /** The WSDL namespace of the service's messages, e.g. tds. */
  namespace: string;
  operations: readonly Operation<Context>[];
}

export interface AuthState {
  credentials: Credentials;
  nonces: NonceCache;
  /** The device clock in ms since the epoch. */
  deviceNow: number;
  /**
   * Set when the device also demands HTTP authentication of operations that need a user
   * (sim/personality.ts soapHttpAuth): whether the request's Authorization passed.
   */
  httpAuthorized?: boolean;
  /** The 401 for missing HTTP authentication uses up the token's nonce (sim/personality.ts). */
  tokenNonceUsedOn401?: boolean;
  /**
   * The device's account lockout for the client's address (sim/lockout.ts): a locked user
   * is refused even with the right password, and a wrong password is counted.
   */
  gate?: LoginGate;
}

export interface DispatchResult extends SoapAnswer {
  /** Name of the operation asked for; '' when the request could not be read. */
  operation: string;
  authenticated: boolean;
  /** The fault's reason when the answer is a fault. */
  detail?: string;
  /** Answer 401 with the device's HTTP challenge (the operation needs HTTP authentication). */
  httpChallenge?: boolean;
}

export async function answerSoap<Context>(
  text: string,
  service: SoapService<Context>,
  auth: AuthState,
  context: Context,
): Promise<DispatchResult> {
  const parsed = parseEnvelope(text);
  if (!parsed.ok) {
    return {
      ...faultAnswer(parsed.fault),
      operation: '',
      authenticated: false,
      detail: parsed.fault.reason,
    };
  }
  const { operation: element, usernameToken } = parsed.request;
  const operation = service.operations.find(
    (op) => op.name === element.name && (op.ns ?? service.namespace) === element.ns,
  );
  const asked = { operation: element.name, authenticated: false };
  if (!operation) {
    const fault = faults.actionNotSupported(element.name);
    return { ...faultAnswer(fault), ...asked, detail: fault.reason };
  }
  if (operation.access !== 'pre-auth' && auth.httpAuthorized === false) {
    // HTTP authentication missing: 401 and a challenge. Most devices answer it from their
    // web server before the SOAP layer sees the token, so its nonce is not used up (agsh/
    // onvif resends the same envelope with Digest, and they accept that). The strictest
    // read the token first: its nonce is then spent, and the same envelope again is a
    // replay. Neither is a login attempt, so the lockout does not count it.
    if (auth.tokenNonceUsedOn401 && usernameToken) checkUsernameToken(usernameToken, auth);
    return { status: 401, xml: '', ...asked, httpChallenge: true };
  }
  // A token sent with a pre-auth operation is checked too (and its nonce used up), so
  // the request log can say who asked; only operations that need it are refused.
  const check = usernameToken || operation.access !== 'pre-auth';
  const result = check ? checkToken(usernameToken, auth, operation.access === 'pre-auth') : null;
  asked.authenticated = result?.ok === true;
  if (operation.access !== 'pre-auth' && result && !result.ok) {
    const fault = faults.notAuthorized(result.reason);
    return { ...faultAnswer(fault), ...asked, detail: fault.reason };
  }
  try {
    return { ...resultAnswer(await operation.handle(element, context)), ...asked };
  } catch (error) {
    if (error instanceof SoapFaultError) {
      return { ...faultAnswer(error.fault), ...asked, detail: error.fault.reason };
    }
    // A bug of the simulator: say so on stderr, answer like a device would.
    console.error(`sim: ${operation.name} failed:`, error);
    return { ...faultAnswer(faults.actionFailed()), ...asked };
  }
}

/**
 * The UsernameToken check with the account lockout around it. A pre-auth operation asks
 * for no login, so its token neither counts against the user nor is refused for a lock
 * (it is only not taken as authenticated).
 */
function checkToken(
  token: Parameters<typeof checkUsernameToken>[0],
  auth: AuthState,
  preAuth: boolean,
): AuthResult {
  const gate = auth.gate;
  const locked = token && gate ? gate.locked(token.username) : null;
  if (locked) return { ok: false, reason: locked };
  const result = checkUsernameToken(token, auth);
  if (token && gate && !preAuth) {
    if (result.ok) gate.succeeded(token.username);
    else if (result.reason === WRONG_PASSWORD) gate.failed(token.username);
  }
  return result;
}
