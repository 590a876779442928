/**
 * SOAP 1.2 faults as ONVIF devices send them (SOAP 1.2 Part 1 section 5.4; the ONVIF
 * generic faults of ONVIF Core section 5.11.2). The shape follows the captured
 * Error.xml: Code/Value, nested Subcode/Value in the `ter` namespace, Reason/Text.
 */
import { escapeXml } from './xml.js';

export type FaultCode = 'VersionMismatch' | 'MustUnderstand' | 'Sender' | 'Receiver';

export interface SoapFault {
  code: FaultCode;
  /** Subcodes outermost first, each an ONVIF error name written as `ter:Name`. */
  subcodes: string[];
  reason: string;
}

/** An operation handler throws this to answer with a fault instead of a result. */
export class SoapFaultError extends Error {
  readonly fault: SoapFault;

  constructor(fault: SoapFault) {
    super(fault.reason);
    this.name = 'SoapFaultError';
    this.fault = fault;
  }
}

/** The generic faults the simulator sends (ONVIF Core 5.11.2.1). */
export const faults = {
  /** The request is not well-formed XML. */
  wellFormed: (detail: string): SoapFault => ({
    code: 'Sender',
    subcodes: ['ter:WellFormed'],
    reason: `Well-formed error: ${detail}`,
  }),
  /** Not a SOAP 1.2 envelope (SOAP 1.2 Part 1 section 5.4.7). */
  versionMismatch: (): SoapFault => ({
    code: 'VersionMismatch',
    subcodes: [],
    reason:
      'Wrong SOAP version: ONVIF devices speak SOAP 1.2 (http://www.w3.org/2003/05/soap-envelope)',
  }),
  /** Well-formed XML without the element the message needs (Envelope, Body, operation). */
  missingTag: (detail: string): SoapFault => ({
    code: 'Sender',
    subcodes: ['ter:Tag'],
    reason: `No tag: ${detail}`,
  }),
  /** ONVIF Core 5.12: the operation needs a valid UsernameToken and there was none. */
  notAuthorized: (detail: string): SoapFault => ({
    code: 'Sender',
    subcodes: ['ter:NotAuthorized'],
    reason: `Sender not authorized: ${detail}`,
  }),
  actionNotSupported: (operation: string): SoapFault => ({
    code: 'Receiver',
    subcodes: ['ter:ActionNotSupported'],
    reason: `Optional action not implemented: ${operation}`,
  }),
  /** ONVIF Media Service Specification: a ProfileToken that names no profile. */
  noProfile: (token: string): SoapFault => ({
    code: 'Sender',
    subcodes: ['ter:InvalidArgVal', 'ter:NoProfile'],
    reason: `The requested profile token "${token}" does not exist`,
  }),
  /** GetCapabilities for a category this device does not implement. */
  noSuchService: (category: string): SoapFault => ({
    code: 'Receiver',
    subcodes: ['ter:ActionNotSupported', 'ter:NoSuchService'],
    reason: `The device does not support the ${category} service`,
  }),
  /** An unexpected error inside the simulator: answered, never a crash. */
  actionFailed: (): SoapFault => ({
    code: 'Receiver',
    subcodes: ['ter:Action'],
    reason: 'Action failed',
  }),
} as const;

/**
 * SOAP 1.2 Part 2 section 7.5.1.2: env:Sender maps to HTTP 400, every other fault to
 * 500. ONVIF Core 5.12 confirms 400 for NotAuthorized.
 */
export function faultStatus(fault: SoapFault): number {
  return fault.code === 'Sender' ? 400 : 500;
}

/** The env:Fault element, to go inside an answer's Body. */
export function faultElement(fault: SoapFault): string {
  let subcodes = '';
  for (const subcode of [...fault.subcodes].reverse()) {
    subcodes = `<env:Subcode><env:Value>${escapeXml(subcode)}</env:Value>${subcodes}</env:Subcode>`;
  }
  return (
    '<env:Fault>' +
    `<env:Code><env:Value>env:${fault.code}</env:Value>${subcodes}</env:Code>` +
    `<env:Reason><env:Text xml:lang="en">${escapeXml(fault.reason)}</env:Text></env:Reason>` +
    '</env:Fault>'
  );
}
