/**
 * What a device sends back: one SOAP 1.2 envelope and its HTTP status. Declarations of
 * every prefix we use sit on the Envelope, as gSOAP-based cameras do, so an operation's
 * body is plain text with `tds:`, `trt:` and `tt:` prefixes.
 */
import { faultElement, faultStatus, type SoapFault } from './fault.js';
import { envelopeDeclarations } from './namespaces.js';

export interface SoapAnswer {
  status: number;
  xml: string;
}

export function envelope(bodyXml: string): string {
  return (
    '<?xml version="1.0" encoding="UTF-8"?>' +
    `<env:Envelope ${envelopeDeclarations}><env:Body>${bodyXml}</env:Body></env:Envelope>`
  );
}

export function resultAnswer(bodyXml: string): SoapAnswer {
  return { status: 200, xml: envelope(bodyXml) };
}

export function faultAnswer(fault: SoapFault): SoapAnswer {
  return { status: faultStatus(fault), xml: envelope(faultElement(fault)) };
}
