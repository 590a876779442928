import { describe, expect, it } from 'vitest';
import { faultAnswer } from '../../../sim/soap/answer.js';
import { faults } from '../../../sim/soap/fault.js';
import { NS } from '../../../sim/soap/namespaces.js';
import { child, parseXml, textAt, type XmlElement } from '../../../sim/soap/xml.js';

/** Code/Value, then each Subcode/Value, outermost first. */
function codes(fault: XmlElement): string[] {
  const values: string[] = [];
  let level = child(fault, 'Code', NS.env);
  while (level) {
    values.push(textAt(level, 'Value') ?? '');
    level = child(level, 'Subcode', NS.env);
  }
  return values;
}

function faultElement(xml: string): XmlElement {
  const envelope = parseXml(xml);
  expect(envelope).toMatchObject({ name: 'Envelope', ns: NS.env });
  const body = child(envelope, 'Body', NS.env);
  const fault = body && child(body, 'Fault', NS.env);
  if (!fault) throw new Error('no Fault in the answer');
  return fault;
}

describe('SOAP fault answers', () => {
  it('NotAuthorized is HTTP 400 with env:Sender / ter:NotAuthorized (ONVIF Core 5.12)', () => {
    const answer = faultAnswer(faults.notAuthorized('wrong username or password'));
    expect(answer.status).toBe(400);
    const fault = faultElement(answer.xml);
    expect(codes(fault)).toEqual(['env:Sender', 'ter:NotAuthorized']);
    expect(textAt(fault, 'Reason', 'Text')).toBe(
      'Sender not authorized: wrong username or password',
    );
    expect(child(fault, 'Reason')?.children[0]?.attributes).toEqual({ lang: 'en' });
  });

  it('ActionNotSupported is a Receiver fault, HTTP 500', () => {
    const answer = faultAnswer(faults.actionNotSupported('GetBogus'));
    expect(answer.status).toBe(500);
    expect(codes(faultElement(answer.xml))).toEqual(['env:Receiver', 'ter:ActionNotSupported']);
  });

  it('nests subcodes outermost first (InvalidArgVal / NoProfile)', () => {
    const answer = faultAnswer(faults.noProfile('nope'));
    expect(codes(faultElement(answer.xml))).toEqual([
      'env:Sender',
      'ter:InvalidArgVal',
      'ter:NoProfile',
    ]);
  });

  it('escapes what the client sent back into the reason', () => {
    const answer = faultAnswer(faults.noProfile('<&">'));
    expect(textAt(faultElement(answer.xml), 'Reason', 'Text')).toBe(
      'The requested profile token "<&">" does not exist',
    );
  });

  it('declares the env and ter prefixes the codes use', () => {
    const { xml } = faultAnswer(faults.wellFormed('x'));
    expect(xml).toContain(`xmlns:env="${NS.env}"`);
    expect(xml).toContain(`xmlns:ter="${NS.ter}"`);
  });
});
