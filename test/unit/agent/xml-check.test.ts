/**
 * agent/onvif/xml-check.ts answers true only where fast-xml-parser's XMLValidator would:
 * held on the recorded answers of real devices (test/fixtures) and on thousands of damaged
 * copies of them. And the answers devices send do take the quick path (else it saves
 * nothing), with far less garbage than the validator.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { XMLValidator } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { parseXml } from '../../../agent/onvif/soap.js';
import { OnvifError } from '../../../agent/onvif/types.js';
import { plainWellFormed } from '../../../agent/onvif/xml-check.js';

const fixtures = join(import.meta.dirname, '../../fixtures');

/** Every recorded XML answer: ONVIF (onvif-agsh) and Hikvision ISAPI (vendor). */
function recorded(): { name: string; xml: string }[] {
  const out: { name: string; xml: string }[] = [];
  for (const dir of ['onvif-agsh', 'vendor/hikvision']) {
    for (const file of readdirSync(join(fixtures, dir)).filter((f) => f.endsWith('.xml'))) {
      out.push({ name: `${dir}/${file}`, xml: readFileSync(join(fixtures, dir, file), 'utf8') });
    }
  }
  return out;
}

/** Written here, in the form our simulator and most firmware answer. */
const written = [
  '<?xml version="1.0" encoding="UTF-8"?><env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope" xmlns:tt="http://www.onvif.org/ver10/schema"><env:Body><tds:GetDeviceInformationResponse><tds:Manufacturer>A &amp; B</tds:Manufacturer><tds:Model>X&#45;1 &#x41;</tds:Model></tds:GetDeviceInformationResponse></env:Body></env:Envelope>',
  '<a>\n  <b x="1" y=\'2\'/>\n  <c >t</c >\r\n</a>\n',
  '<root attr="a\'s"/>',
];

/** A seeded generator (mulberry32), so a failure can be replayed. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const PIECES = ['<', '>', '/', '&', '"', "'", '=', ' ', 'a', ':', '</a>', '<a>', '&amp;', '&x;'];

/** One damage: a character dropped, doubled or replaced, a piece inserted, a span repeated. */
function damage(xml: string, next: () => number): string {
  const i = Math.floor(next() * xml.length);
  const piece = PIECES[Math.floor(next() * PIECES.length)] as string;
  switch (Math.floor(next() * 5)) {
    case 0:
      return xml.slice(0, i) + xml.slice(i + 1);
    case 1:
      return xml.slice(0, i) + xml.charAt(i) + xml.slice(i);
    case 2:
      return xml.slice(0, i) + piece + xml.slice(i + 1);
    case 3:
      return xml.slice(0, i) + piece + xml.slice(i);
    default: {
      // A span repeated: duplicate attributes, a second root, tags out of order.
      const j = Math.min(xml.length, i + 1 + Math.floor(next() * 40));
      return xml.slice(0, j) + xml.slice(i, j) + xml.slice(j);
    }
  }
}

describe('plainWellFormed', () => {
  it('takes the quick path for the answers devices send', () => {
    const docs = [...recorded().map((d) => d.xml), ...written];
    const quick = docs.filter((xml) => plainWellFormed(xml));
    for (const xml of quick) expect(XMLValidator.validate(xml)).toBe(true);
    // The rest (comments, CDATA, a BOM) go to the validator; they must be the exception.
    expect(quick.length / docs.length).toBeGreaterThan(0.8);
    for (const xml of written) expect(plainWellFormed(xml)).toBe(true);
  });

  it('never accepts what XMLValidator refuses: 6,000 damaged answers', () => {
    const next = random(13);
    const docs = [...recorded().map((d) => d.xml), ...written];
    let refused = 0;
    let quick = 0;
    for (let n = 0; n < 6_000; n++) {
      let xml = docs[n % docs.length] as string;
      const times = 1 + Math.floor(next() * 3);
      for (let k = 0; k < times; k++) xml = damage(xml, next);
      const valid = XMLValidator.validate(xml) === true;
      if (!valid) refused += 1;
      if (!plainWellFormed(xml)) continue;
      quick += 1;
      if (!valid) throw new Error(`accepted what XMLValidator refuses (case ${n}):\n${xml}`);
    }
    // Both sides must be well represented, or the test proves little.
    expect(refused).toBeGreaterThan(1_500);
    expect(quick).toBeGreaterThan(1_000);
  }, 120_000);

  it.each([
    ['a duplicate attribute', '<a x="1" x="2"/>'],
    ['a mismatched end tag', '<a><b></a></b>'],
    ['two roots', '<a/><b/>'],
    ['text after the root', '<a/>x'],
    ['text before the root', 'x<a/>'],
    ['an unclosed element', '<a><b></b>'],
    ['an unknown entity', '<a>&nbsp;</a>'],
    ['a bare ampersand', '<a>A & B</a>'],
    ['an attribute without a value', '<a x/>'],
    ['attributes without space between', '<a x="1"y="2"/>'],
    ['an unquoted value', '<a x=1/>'],
    ['nothing', ''],
    ['white space only', '  \n'],
    ['a declaration not at the start', ' <?xml version="1.0"?><a/>'],
  ])('refuses %s', (_, xml) => {
    expect(plainWellFormed(xml)).toBe(false);
  });

  it('leaves comments, CDATA and a BOM to the validator, which soap.ts still asks', () => {
    for (const xml of ['<a><!-- c --></a>', '<a><![CDATA[x]]></a>', '\ufeff<a/>']) {
      expect(plainWellFormed(xml)).toBe(false);
      expect(XMLValidator.validate(xml)).toBe(true);
      expect(() => parseXml(xml)).not.toThrow();
    }
    expect(() => parseXml('<a><b></a>')).toThrow(OnvifError);
    expect(() => parseXml('<a><b></a>')).toThrow(/malformed XML at line 1/);
  });

  it('refuses nesting deeper than its limit', () => {
    const deep = (n: number): string => '<a>'.repeat(n) + '</a>'.repeat(n);
    expect(plainWellFormed(deep(10), 10)).toBe(true);
    expect(plainWellFormed(deep(11), 10)).toBe(false);
  });
});
