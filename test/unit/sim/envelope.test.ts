import { describe, expect, it } from 'vitest';
import { parseEnvelope } from '../../../sim/soap/envelope.js';
import { NS } from '../../../sim/soap/namespaces.js';
import { securityHeader, soapRequest } from '../../helpers/soap-requests.js';

function faultOf(text: string) {
  const parsed = parseEnvelope(text);
  if (parsed.ok) throw new Error('expected a fault');
  return parsed.fault;
}

describe('SOAP envelope parsing', () => {
  it('finds the operation and node-onvif style UsernameToken (default namespaces)', () => {
    const parsed = parseEnvelope(
      soapRequest(
        '<trt:GetStreamUri><trt:ProfileToken>main</trt:ProfileToken></trt:GetStreamUri>',
        securityHeader({ password: 'pw', created: '2026-11-26T08:00:00.000Z' }),
      ),
    );
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(parsed.request.operation).toMatchObject({ name: 'GetStreamUri', ns: NS.trt });
    expect(parsed.request.operation.children[0]).toMatchObject({
      name: 'ProfileToken',
      text: 'main',
    });
    expect(parsed.request.usernameToken).toMatchObject({
      username: 'admin',
      created: '2026-11-26T08:00:00.000Z',
    });
  });

  it('reads a prefixed gSOAP style token (wsse:, wsu:)', () => {
    const header =
      `<wsse:Security xmlns:wsse="${NS.wsse}" xmlns:wsu="${NS.wsu}"><wsse:UsernameToken>` +
      '<wsse:Username>admin</wsse:Username><wsse:Password Type="x">abc=</wsse:Password>' +
      '<wsse:Nonce>AQID</wsse:Nonce><wsu:Created>2026-11-26T08:00:00Z</wsu:Created>' +
      '</wsse:UsernameToken></wsse:Security>';
    const parsed = parseEnvelope(soapRequest('<tds:GetDeviceInformation/>', header));
    expect(parsed.ok && parsed.request.usernameToken).toEqual({
      username: 'admin',
      password: 'abc=',
      passwordType: 'x',
      nonce: 'AQID',
      created: '2026-11-26T08:00:00Z',
    });
  });

  it('has no token when the Header has none', () => {
    const parsed = parseEnvelope(soapRequest('<tds:GetSystemDateAndTime/>'));
    expect(parsed.ok && parsed.request.usernameToken).toBeNull();
  });

  it('answers malformed XML with a WellFormed fault, not an exception', () => {
    for (const text of [
      '',
      'not xml at all',
      '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body>',
      '<a><b></a>',
      '<a/><b/>',
      '<x:Envelope><x:Body/></x:Envelope>',
    ]) {
      expect(faultOf(text)).toMatchObject({ code: 'Sender', subcodes: ['ter:WellFormed'] });
    }
  });

  it('refuses a document type declaration (SOAP 1.2 forbids it)', () => {
    const text = '<!DOCTYPE a [<!ENTITY x "y">]>' + soapRequest('<tds:GetSystemDateAndTime/>');
    expect(faultOf(text).subcodes).toEqual(['ter:WellFormed']);
  });

  it('answers a SOAP 1.1 envelope with VersionMismatch', () => {
    const text =
      '<e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/"><e:Body><x/></e:Body></e:Envelope>';
    expect(faultOf(text).code).toBe('VersionMismatch');
  });

  it('answers well-formed XML that is no usable envelope with a Tag fault', () => {
    expect(faultOf('<hello/>').subcodes).toEqual(['ter:Tag']);
    expect(
      faultOf('<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"/>').reason,
    ).toMatch(/no Body/);
    expect(faultOf(soapRequest('')).reason).toMatch(/names no operation/);
  });
});
