/** SOAP requests as clients write them, for the simulator's tests. */
import { randomBytes } from 'node:crypto';
import { passwordDigest } from '../../sim/soap/auth.js';
import { PASSWORD_DIGEST_TYPE } from '../../sim/soap/namespaces.js';

export interface TokenOptions {
  username?: string;
  password: string;
  created?: string;
  nonce?: Buffer;
}

/** A UsernameToken header the way node-onvif writes it: default namespaces, no prefixes. */
export function securityHeader(options: TokenOptions): string {
  const created = options.created ?? new Date().toISOString();
  const nonce = options.nonce ?? randomBytes(16);
  const digest = passwordDigest(nonce, created, options.password);
  return (
    '<Security s:mustUnderstand="1" xmlns="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd">' +
    '<UsernameToken>' +
    `<Username>${options.username ?? 'admin'}</Username>` +
    `<Password Type="${PASSWORD_DIGEST_TYPE}">${digest}</Password>` +
    `<Nonce EncodingType="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary">${nonce.toString('base64')}</Nonce>` +
    `<Created xmlns="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd">${created}</Created>` +
    '</UsernameToken></Security>'
  );
}

export function soapRequest(body: string, header = ''): string {
  return (
    '<?xml version="1.0" encoding="UTF-8"?>' +
    '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"' +
    ' xmlns:tds="http://www.onvif.org/ver10/device/wsdl"' +
    ' xmlns:trt="http://www.onvif.org/ver10/media/wsdl"' +
    ' xmlns:tev="http://www.onvif.org/ver10/events/wsdl"' +
    ' xmlns:trc="http://www.onvif.org/ver10/recording/wsdl"' +
    ' xmlns:tse="http://www.onvif.org/ver10/search/wsdl"' +
    ' xmlns:wsnt="http://docs.oasis-open.org/wsn/b-2"' +
    ' xmlns:tt="http://www.onvif.org/ver10/schema">' +
    `<s:Header>${header}</s:Header><s:Body>${body}</s:Body></s:Envelope>`
  );
}
