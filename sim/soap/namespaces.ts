/**
 * XML namespaces the simulator reads and writes. The prefixes in `prefixes` are the ones
 * our answers declare; readers must resolve namespaces, never trust a prefix.
 */
export const NS = {
  /** SOAP 1.2 envelope (SOAP 1.2 Part 1 section 5). ONVIF uses SOAP 1.2 only. */
  env: 'http://www.w3.org/2003/05/soap-envelope',
  /** SOAP 1.1 envelope: recognised only to answer VersionMismatch. */
  soap11: 'http://schemas.xmlsoap.org/soap/envelope/',
  tds: 'http://www.onvif.org/ver10/device/wsdl',
  trt: 'http://www.onvif.org/ver10/media/wsdl',
  tt: 'http://www.onvif.org/ver10/schema',
  tev: 'http://www.onvif.org/ver10/events/wsdl',
  trc: 'http://www.onvif.org/ver10/recording/wsdl',
  tse: 'http://www.onvif.org/ver10/search/wsdl',
  tr2: 'http://www.onvif.org/ver20/media/wsdl',
  /** WS-BaseNotification (Renew, Unsubscribe, NotificationMessage). */
  wsnt: 'http://docs.oasis-open.org/wsn/b-2',
  wstop: 'http://docs.oasis-open.org/wsn/t-1',
  wsa: 'http://www.w3.org/2005/08/addressing',
  tns1: 'http://www.onvif.org/ver10/topics',
  xsd: 'http://www.w3.org/2001/XMLSchema',
  /** WS-Discovery 2005/04 as ONVIF Core 7.3 uses it. */
  wsd: 'http://schemas.xmlsoap.org/ws/2005/04/discovery',
  wsa2004: 'http://schemas.xmlsoap.org/ws/2004/08/addressing',
  dn: 'http://www.onvif.org/ver10/network/wsdl',
  ter: 'http://www.onvif.org/ver10/error',
  wsse: 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd',
  wsu: 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd',
} as const;

/** Namespace declarations on the Envelope of every answer. */
export const envelopeDeclarations = (
  [
    'env',
    'tds',
    'trt',
    'tr2',
    'tt',
    'ter',
    'tev',
    'trc',
    'tse',
    'wsnt',
    'wstop',
    'wsa',
    'tns1',
    'xsd',
  ] as const
)
  .map((prefix) => `xmlns:${prefix}="${NS[prefix]}"`)
  .join(' ');

/** WS-Security UsernameToken Profile 1.0 section 3.1: the Type of a digested password. */
export const PASSWORD_DIGEST_TYPE =
  'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordDigest';
