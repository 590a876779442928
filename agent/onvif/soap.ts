/**
 * Every ONVIF SOAP request of the agent: the envelope, the HTTP exchange, and what an
 * answer or fault means. The only importer of fast-xml-parser in the agent.
 *
 * Each request has one deadline for the whole exchange (connect, send, answer); when it
 * passes, or the caller aborts, the socket is destroyed, so a device that hangs holds
 * nothing of ours.
 */
import type { KeptConnections } from './kept-http.js';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import type { Secret } from '../secret.js';
import type { Credentials } from './http-auth.js';
import {
  credentialsRejected,
  httpExchange,
  redact,
  type AuthMemory,
  type ExchangeTls,
} from './http-exchange.js';
import { OnvifError } from './types.js';
import { leanParse, type XmlNode } from './xml-lean.js';

export const NS = {
  soap: 'http://www.w3.org/2003/05/soap-envelope',
  tds: 'http://www.onvif.org/ver10/device/wsdl',
  trt: 'http://www.onvif.org/ver10/media/wsdl',
  tev: 'http://www.onvif.org/ver10/events/wsdl',
  trc: 'http://www.onvif.org/ver10/recording/wsdl',
  tse: 'http://www.onvif.org/ver10/search/wsdl',
  tt: 'http://www.onvif.org/ver10/schema',
  wsa: 'http://www.w3.org/2005/08/addressing',
  wsse: 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd',
  wsu: 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd',
} as const;

/** Answers larger than this are not ONVIF health data; refuse rather than buffer them. */
export const MAX_ANSWER_BYTES = 4 * 1024 * 1024;

const parser = new XMLParser({
  removeNSPrefix: true,
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  // Keep every value a string: a serial number "00012" must stay "00012".
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  ignoreDeclaration: true,
  ignorePiTags: true,
});

export type { XmlNode };

/**
 * The text of an answer. Some devices declare `utf-16` on UTF-8 bytes
 * (docs/ONVIF.md), so the declaration is ignored and only a byte order mark
 * switches to UTF-16.
 */
export function decodeAnswer(bytes: Buffer): string {
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return bytes.subarray(2).toString('utf16le');
  if (bytes[0] === 0xfe && bytes[1] === 0xff) {
    const swapped = Buffer.from(bytes.subarray(2));
    swapped.swap16();
    return swapped.toString('utf16le');
  }
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) {
    return bytes.subarray(3).toString('utf8');
  }
  return bytes.toString('utf8');
}

/** Parses XML; malformed XML is a protocol error. */
export function parseXml(xml: string): XmlNode {
  // The lean parse first (xml-lean.ts: the same tree for the plain XML devices answer,
  // at a fraction of the cost); fast-xml-parser judges and parses everything else.
  return leanParse(xml) ?? fullParse(xml);
}

/**
 * fast-xml-parser's validator, whose error names the line, then its parser. Exported for
 * the tests that hold leanParse to the same tree.
 */
export function fullParse(xml: string): XmlNode {
  const valid = XMLValidator.validate(xml);
  if (valid !== true) {
    throw new OnvifError(
      'protocol-error',
      `malformed XML at line ${valid.err.line}: ${valid.err.msg}`,
    );
  }
  return parser.parse(xml) as XmlNode;
}

/** The first child element `name` (xml parsers give one element or an array of them). */
export function child(node: unknown, name: string): unknown {
  if (!node || typeof node !== 'object') return undefined;
  const value = (node as Record<string, unknown>)[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Every child element `name`, as an array. */
export function children(node: unknown, name: string): unknown[] {
  if (!node || typeof node !== 'object') return [];
  const value = (node as Record<string, unknown>)[name];
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

/** An attribute of an element (the parser names them @_name). */
export function attribute(node: unknown, name: string): string | undefined {
  if (!node || typeof node !== 'object') return undefined;
  const value = (node as Record<string, unknown>)[`@_${name}`];
  return typeof value === 'string' ? value : undefined;
}

export function textOf(node: unknown): string | undefined {
  if (typeof node === 'string') return node.trim();
  if (node && typeof node === 'object' && '#text' in node) {
    return textOf((node as Record<string, unknown>)['#text']);
  }
  return undefined;
}

export interface SoapFault {
  /** env:Code/env:Value, without its prefix: Sender, Receiver, ... */
  code: string;
  /** The innermost env:Subcode/env:Value without its prefix: NotAuthorized, ActionNotSupported, ... */
  subcode: string;
  reason: string;
}

function localName(qname: string): string {
  return qname.slice(qname.lastIndexOf(':') + 1).trim();
}

/** The SOAP 1.2 fault of a parsed envelope (SOAP 1.2 part 1, section 5.4), if it has one. */
export function faultOf(envelope: XmlNode): SoapFault | null {
  const fault = child(child(child(envelope, 'Envelope'), 'Body'), 'Fault');
  if (fault === undefined) return null;
  const code = child(fault, 'Code');
  let subcode = '';
  for (let sub = child(code, 'Subcode'); sub !== undefined; sub = child(sub, 'Subcode')) {
    subcode = localName(textOf(child(sub, 'Value')) ?? subcode);
  }
  // SOAP 1.1 faults (faultcode/faultstring) still come from older firmware.
  const reason =
    textOf(child(child(fault, 'Reason'), 'Text')) ?? textOf(child(fault, 'faultstring')) ?? '';
  return {
    code: localName(textOf(child(code, 'Value')) ?? textOf(child(fault, 'faultcode')) ?? ''),
    subcode,
    reason,
  };
}

/** The first element of the SOAP body that is named `name` (namespace prefix removed). */
export function bodyElement(envelope: XmlNode, name: string): unknown {
  return child(child(child(envelope, 'Envelope'), 'Body'), name);
}

function isNotAuthorized(fault: SoapFault | null): boolean {
  // ONVIF Core 5.11.2.2: ter:NotAuthorized. Some firmware names it only in the reason.
  return (
    fault !== null &&
    (/^NotAuthori[sz]ed$/i.test(fault.subcode) || /not\s*authori[sz]ed/i.test(fault.reason))
  );
}

/**
 * What a failed HTTP exchange means. 401 (HTTP authentication), 403 and the NotAuthorized
 * fault (answered with 400 by ONVIF devices, SOAP 1.2 part 2 section 7.5.1) are
 * auth-failed: wrong credentials when the request carried them (`sentCredentials`: a
 * UsernameToken or an Authorization header), else the device demanding credentials for
 * a request sent without (tds:GetSystemDateAndTime, against ONVIF Core 5.12.1). Any other
 * fault or status is a device speaking something we cannot use.
 */
export function classifyAnswer(
  status: number,
  fault: SoapFault | null,
  sentCredentials = true,
): OnvifError | null {
  if (status === 401 || status === 403 || isNotAuthorized(fault)) {
    const detail = fault ? `: ${fault.reason || fault.subcode}` : '';
    return new OnvifError(
      'auth-failed',
      sentCredentials
        ? `the device refused the credentials (HTTP ${status}${detail})`
        : `the device demands credentials for a request the agent sends without them (HTTP ${status}${detail})`,
    );
  }
  if (fault) {
    const name = [fault.code, fault.subcode].filter(Boolean).join('/');
    return new OnvifError('protocol-error', `SOAP fault ${name}: ${fault.reason}`.trim());
  }
  if (status < 200 || status >= 300) {
    return new OnvifError('protocol-error', `the device answered HTTP ${status}`);
  }
  return null;
}

export interface SoapRequest {
  url: string;
  /** The SOAP 1.2 action (RFC 3902 `action` parameter of application/soap+xml). */
  action: string;
  /** The content of <s:Body>. */
  body: string;
  /** Extra namespace declarations for the envelope, as `prefix: uri`. */
  namespaces?: Record<string, string>;
  /**
   * Content of <s:Header>: the WS-Security UsernameToken of authenticated calls; a
   * function makes a fresh one for each attempt (the retry after an HTTP challenge).
   */
  header?: string | (() => string);
  timeoutMs: number;
  signal?: AbortSignal;
  /**
   * For HTTP authentication: devices that want HTTP Digest (ONVIF Core 5.12.1 requires
   * them to accept it) answer a UsernameToken alone with 401 and a challenge.
   */
  credentials?: Credentials;
  /** The device's memory of the HTTP authentication that worked. */
  auth?: AuthMemory;
  tls?: ExchangeTls;
  /** The device's kept connections (http-exchange.ts deviceConnections). */
  connections?: KeptConnections;
}

export interface SoapAnswer {
  envelope: XmlNode;
  /** Wall-clock times (Date.now()) around the exchange, for clock offsets. */
  sentAtMs: number;
  receivedAtMs: number;
  /** The round trip measured with the monotonic clock. */
  elapsedMs: number;
}

export function envelope(
  body: string,
  namespaces: Record<string, string> = {},
  header?: string,
): string {
  const xmlns = Object.entries({ s: NS.soap, ...namespaces })
    .map(([prefix, uri]) => ` xmlns:${prefix}="${uri}"`)
    .join('');
  const head = header ? `<s:Header>${header}</s:Header>` : '';
  return `<?xml version="1.0" encoding="UTF-8"?><s:Envelope${xmlns}>${head}<s:Body>${body}</s:Body></s:Envelope>`;
}

/**
 * What an HTTP answer to a SOAP request says: its envelope when the status is 2xx and it
 * is well-formed XML without a fault; otherwise the OnvifError of classifyAnswer (a
 * refusal of credentials, a fault, another status) or of the parse, with the password
 * masked in its message (a fault reason or a parser's excerpt is the device's text, and
 * may echo it). Every SOAP answer of the agent is judged here, the liveness probe's too
 * (probe.ts).
 */
export function soapAnswer(
  status: number,
  body: Buffer,
  sentCredentials: boolean,
  password: Secret | undefined,
): XmlNode {
  const text = decodeAnswer(body);
  let parsed: XmlNode | null = null;
  let parseError: OnvifError | null = null;
  try {
    parsed = text.trim() === '' ? null : parseXml(text);
  } catch (error) {
    parseError =
      error instanceof OnvifError ? error : new OnvifError('protocol-error', String(error));
  }
  const failure = classifyAnswer(status, parsed ? faultOf(parsed) : null, sentCredentials);
  for (const error of [failure, parseError]) {
    if (error) {
      error.message = redact(error.message, password);
      throw error;
    }
  }
  if (!parsed) throw new OnvifError('protocol-error', 'empty answer');
  return parsed;
}

/**
 * One SOAP 1.2 request over HTTP (http-exchange.ts: one deadline, HTTP Digest or Basic
 * when the device challenges). Resolves with the parsed envelope of a successful answer;
 * rejects with an OnvifError of the right kind otherwise.
 */
export async function soapRequest(request: SoapRequest): Promise<SoapAnswer> {
  const answer = await httpExchange({
    url: request.url,
    method: 'POST',
    headers: { 'Content-Type': `application/soap+xml; charset=utf-8; action="${request.action}"` },
    body: () => {
      const header = typeof request.header === 'function' ? request.header() : request.header;
      return Buffer.from(envelope(request.body, request.namespaces, header), 'utf8');
    },
    timeoutMs: request.timeoutMs,
    maxBytes: MAX_ANSWER_BYTES,
    ...(request.signal ? { signal: request.signal } : {}),
    ...(request.credentials ? { credentials: request.credentials } : {}),
    ...(request.auth ? { auth: request.auth } : {}),
    ...(request.tls ? { tls: request.tls } : {}),
    ...(request.connections ? { connections: request.connections } : {}),
  });
  const password = request.credentials?.password;
  if (answer.status === 401 && answer.authenticated) {
    throw credentialsRejected(
      'the device service',
      request.url,
      answer.status,
      password,
      'ONVIF user',
    );
  }
  const sentCredentials = answer.authenticated || request.header !== undefined;
  const parsed = soapAnswer(answer.status, answer.body, sentCredentials, password);
  return {
    envelope: parsed,
    sentAtMs: answer.sentAtMs,
    receivedAtMs: answer.receivedAtMs,
    elapsedMs: answer.elapsedMs,
  };
}
