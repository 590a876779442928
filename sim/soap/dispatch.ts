/**
 * One SOAP request in, one answer out: parse the envelope, find the operation, check the
 * UsernameToken when the operation needs it, run it. Pure apart from the nonce cache,
 * so it is tested without sockets; the HTTP side lives in http.ts.
 */
import { faultAnswer, resultAnswer, type SoapAnswer } from './answer.js';
import { checkUsernameToken, type Credentials, type NonceCache } from './auth.js';
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
  /** Returns the Body content of the answer, or throws SoapFaultError. */
  handle(request: XmlElement, context: Context): string;
}

export interface SoapService<Context> {
  /** HTTP path of the service's XAddr, e.g. /onvif/device_service. */
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
}

export function answerSoap<Context>(
  text: string,
  service: SoapService<Context>,
  auth: AuthState,
  context: Context,
): SoapAnswer {
  const parsed = parseEnvelope(text);
  if (!parsed.ok) return faultAnswer(parsed.fault);
  const { operation: element, usernameToken } = parsed.request;
  const operation =
    element.ns === service.namespace
      ? service.operations.find((op) => op.name === element.name)
      : undefined;
  if (!operation) return faultAnswer(faults.actionNotSupported(element.name));
  if (operation.access !== 'pre-auth') {
    const result = checkUsernameToken(usernameToken, auth);
    if (!result.ok) return faultAnswer(faults.notAuthorized(result.reason));
  }
  try {
    return resultAnswer(operation.handle(element, context));
  } catch (error) {
    if (error instanceof SoapFaultError) return faultAnswer(error.fault);
    // A bug of the simulator: say so on stderr, answer like a device would.
    console.error(`sim: ${operation.name} failed:`, error);
    return faultAnswer(faults.actionFailed());
  }
}
