/**
 * Reading a SOAP 1.2 request: the operation in the Body and the WS-Security
 * UsernameToken in the Header. Every way a request can be broken ends in a fault
 * answer, never in an exception (a device under test must not crash on bad input).
 */
import { faults, type SoapFault } from './fault.js';
import { NS } from './namespaces.js';
import { child, parseXml, XmlSyntaxError, type XmlElement } from './xml.js';

/** The fields of a wsse:UsernameToken (WS-Security UsernameToken Profile 1.0 section 3.1). */
export interface UsernameToken {
  username: string;
  password: string;
  /** The Password element's Type attribute; the profile's default is PasswordText. */
  passwordType: string | null;
  /** Base64 text as sent. */
  nonce: string | null;
  created: string | null;
}

export interface SoapRequest {
  /** The first element of the Body: its name and namespace say which operation. */
  operation: XmlElement;
  usernameToken: UsernameToken | null;
}

export type EnvelopeResult = { ok: true; request: SoapRequest } | { ok: false; fault: SoapFault };

export function parseEnvelope(text: string): EnvelopeResult {
  let root: XmlElement;
  try {
    root = parseXml(text);
  } catch (error) {
    if (error instanceof XmlSyntaxError)
      return { ok: false, fault: faults.wellFormed(error.message) };
    throw error;
  }
  if (root.name === 'Envelope' && root.ns === NS.soap11) {
    return { ok: false, fault: faults.versionMismatch() };
  }
  if (root.name !== 'Envelope' || root.ns !== NS.env) {
    return { ok: false, fault: faults.missingTag(`the root element must be a SOAP 1.2 Envelope`) };
  }
  const body = child(root, 'Body', NS.env);
  if (!body) return { ok: false, fault: faults.missingTag('the Envelope has no Body') };
  const operation = body.children[0];
  if (!operation) return { ok: false, fault: faults.missingTag('the Body names no operation') };
  const header = child(root, 'Header', NS.env);
  return { ok: true, request: { operation, usernameToken: header ? readToken(header) : null } };
}

/**
 * The token is found by namespace (wsse:Security/wsse:UsernameToken); its fields by local
 * name only, because clients disagree on them (node-onvif puts Created in wsu, others
 * in wsse).
 */
function readToken(header: XmlElement): UsernameToken | null {
  const security = child(header, 'Security', NS.wsse);
  const token = security && child(security, 'UsernameToken', NS.wsse);
  if (!token) return null;
  const password = child(token, 'Password');
  return {
    username: child(token, 'Username')?.text ?? '',
    password: password?.text ?? '',
    passwordType: password?.attributes['Type'] ?? null,
    nonce: child(token, 'Nonce')?.text ?? null,
    created: child(token, 'Created')?.text ?? null,
  };
}
