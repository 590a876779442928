/**
 * A lean parse of the plain XML that ONVIF and ISAPI answers are, ahead of fast-xml-parser
 * (soap.ts). It checks well-formedness and builds the very tree fast-xml-parser builds with
 * soap.ts's options, in one pass, or answers `undefined` and leaves the document to
 * fast-xml-parser's validator and parser as before.
 *
 * Why: at 500 devices (33 polls and 250 liveness probes a second) fast-xml-parser was the
 * largest single cost of the agent: 14 % of its CPU time in a profile of bench:agent (its
 * parser builds every tag name and attribute string one character at a time, runs a
 * path matcher per tag and a second pass to compress the tree), and two thirds of what it
 * allocates, which sets how often the young generation is collected and so how much of
 * the requests in flight is promoted (agent/README.md, Memory and CPU). This parse reads
 * the document with sticky regular expressions and index arithmetic, slices only the
 * names and values it keeps, and builds each element's value once.
 *
 * The subset it takes (anything else answers `undefined`):
 * - an optional XML declaration at the very start, one root element, white space around
 *   it; no comments, CDATA, processing instructions, DOCTYPE or byte order mark;
 * - element and attribute names in ASCII with one prefix at most; no element named
 *   `xmlns` or `xmlns:*`, none of the property names fast-xml-parser guards against
 *   (`__proto__`, `toString` ...);
 * - attributes `name="value"` or `name='value'`, separated by white space, no qualified
 *   name repeated, no `<` in a value;
 * - text and attribute values whose only references are the five entities of XML 1.0
 *   section 4.6 (fast-xml-parser leaves character references as they are unless told to
 *   decode them; those documents go to it, so both paths agree);
 * - nesting up to `maxDepth`.
 *
 * The tree, as fast-xml-parser 5 builds it with soap.ts's options (removeNSPrefix,
 * attributes as `@_name`, every value a string, values trimmed): namespace prefixes
 * removed and `xmlns` attributes dropped; an element with neither attributes nor child
 * elements is its text ('' when empty); otherwise an object of its children (a repeated
 * name becomes an array, in document order), its text as `#text` (each run of text
 * trimmed, the non-empty runs joined), then its attributes; CR LF and lone CR read as LF
 * (XML 1.0 section 2.11). test/unit/agent/xml-lean.test.ts holds this to fast-xml-parser's
 * own output on the recorded answers of real devices and on thousands of generated and
 * damaged documents, and to its validator: this never accepts what the validator refuses.
 */
/** A parsed XML document: plain objects, arrays and strings. */
export type XmlNode = Record<string, unknown>;

const NAME = '[A-Za-z_][A-Za-z0-9_.-]*(?::[A-Za-z_][A-Za-z0-9_.-]*)?';
// The declaration's pseudo-attributes, each quoted (a damaged one, such as
// `encoding="UTF-version="1.0"`, passes the validator but not the parser).
const DECLARATION =
  /<\?xml(?:[ \t\r\n]+[A-Za-z]+[ \t\r\n]*=[ \t\r\n]*(?:"[^"<>?]*"|'[^'<>?]*'))+[ \t\r\n]*\?>/y;
// XML 1.0 white space as the validator counts it (space, tab, CR, LF; not \s).
const WHITE = /[ \t\r\n]*/y;
const OPEN_NAME = new RegExp(`<${NAME}`, 'y');
const ATTRIBUTE_NAME = new RegExp(`[ \\t\\r\\n]+${NAME}`, 'y');
const ATTRIBUTE_EQUALS = /[ \t\r\n]*=[ \t\r\n]*/y;
const DOUBLE_QUOTED = /"(?:[^"<&]|&(?:lt|gt|amp|quot|apos);)*"/y;
const SINGLE_QUOTED = /'(?:[^'<&]|&(?:lt|gt|amp|quot|apos);)*'/y;
const OPEN_END = /[ \t\r\n]*\/?>/y;
const CLOSE_NAME = new RegExp(`</${NAME}`, 'y');
const CLOSE_END = /[ \t\r\n]*>/y;
const TEXT = /(?:[^<&]+|&(?:lt|gt|amp|quot|apos);)*/y;
const ENTITY = /&(lt|gt|amp|quot|apos);/g;
const ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

/** Names fast-xml-parser refuses or renames (its util.js): leave them to it. */
const GUARDED = new Set([
  '__proto__',
  'constructor',
  'prototype',
  'hasOwnProperty',
  'toString',
  'valueOf',
  '__defineGetter__',
  '__defineSetter__',
  '__lookupGetter__',
  '__lookupSetter__',
]);

/** Matches `pattern` at `at`; the position after it, or -1. Allocates no match object. */
function at(pattern: RegExp, text: string, position: number): number {
  pattern.lastIndex = position;
  return pattern.test(text) ? pattern.lastIndex : -1;
}

function isWhite(code: number): boolean {
  return code === 0x20 || code === 0x09 || code === 0x0d || code === 0x0a;
}

/** The same characters at [a, a + length) and [b, b + length). */
function same(text: string, a: number, b: number, length: number): boolean {
  for (let i = 0; i < length; i++) {
    if (text.charCodeAt(a + i) !== text.charCodeAt(b + i)) return false;
  }
  return true;
}

/** The name without its prefix, as removeNSPrefix gives it. */
function localName(xml: string, start: number, end: number): string {
  const colon = xml.indexOf(':', start);
  return colon >= 0 && colon < end ? xml.slice(colon + 1, end) : xml.slice(start, end);
}

/** Trimmed as fast-xml-parser trims (String.prototype.trim), then the five entities read. */
function value(raw: string): string {
  const trimmed = raw.trim();
  return trimmed.includes('&')
    ? trimmed.replace(ENTITY, (_, name: string) => ENTITIES[name]!)
    : trimmed;
}

/** Adds a child's value under its name; a second one of the name makes an array. */
function attach(children: Record<string, unknown>, name: string, child: unknown): void {
  if (!Object.hasOwn(children, name)) {
    children[name] = child;
    return;
  }
  const present = children[name];
  if (Array.isArray(present)) present.push(child);
  else children[name] = [present, child];
}

/** An element being read: its children so far, its text runs, its attributes. */
interface Open {
  /** Where its qualified name starts in the document, and its length (for the end tag). */
  nameStart: number;
  nameLength: number;
  name: string;
  children: Record<string, unknown> | null;
  text: string;
  attributes: [string, string][] | null;
}

/** The value of an element once read (see the header for the shape). */
function valueOf(element: Open): unknown {
  const { children, text, attributes } = element;
  if (!children && !attributes) return text;
  const node: Record<string, unknown> = children ?? {};
  if (text !== '') node['#text'] = text;
  if (attributes) for (const [name, value] of attributes) node[`@_${name}`] = value;
  return node;
}

/**
 * The tree of `xml` as fast-xml-parser would build it (see the header), or `undefined`
 * when the document is not well-formed or lies outside the subset: ask fast-xml-parser's
 * validator then, whose error message soap.ts keeps.
 */
export function leanParse(xml: string, maxDepth = 256): XmlNode | undefined {
  // XML 1.0 section 2.11; fast-xml-parser normalises the same way before it reads.
  if (xml.includes('\r')) xml = xml.replace(/\r\n?/g, '\n');
  const stack: Open[] = [];
  const top: Record<string, unknown> = {};
  // The qualified attribute names of the tag being read, as [start, length] pairs.
  const seen: number[] = [];
  let position = at(DECLARATION, xml, 0);
  if (position < 0) position = 0;
  position = at(WHITE, xml, position);
  let rootDone = false;
  while (position < xml.length) {
    if (rootDone) return at(WHITE, xml, position) === xml.length ? top : undefined;
    if (xml.charCodeAt(position) !== 0x3c /* < */) return undefined;
    if (xml.charCodeAt(position + 1) === 0x2f /* / */) {
      const nameEnd = at(CLOSE_NAME, xml, position);
      const element = stack.pop();
      if (nameEnd < 0 || !element) return undefined;
      if (
        nameEnd - position - 2 !== element.nameLength ||
        !same(xml, element.nameStart, position + 2, element.nameLength)
      ) {
        return undefined;
      }
      position = at(CLOSE_END, xml, nameEnd);
      if (position < 0) return undefined;
      const parent = stack[stack.length - 1];
      if (parent) attach((parent.children ??= {}), element.name, valueOf(element));
      else {
        attach(top, element.name, valueOf(element));
        rootDone = true;
      }
    } else {
      let end = at(OPEN_NAME, xml, position);
      if (end < 0) return undefined;
      const nameStart = position + 1;
      const name = localName(xml, nameStart, end);
      if (GUARDED.has(name) || name === 'xmlns' || xml.startsWith('xmlns:', nameStart)) {
        return undefined;
      }
      const element: Open = {
        nameStart,
        nameLength: end - nameStart,
        name,
        children: null,
        text: '',
        attributes: null,
      };
      seen.length = 0;
      for (;;) {
        const attributeEnd = at(ATTRIBUTE_NAME, xml, end);
        if (attributeEnd < 0) break;
        let start = end;
        while (isWhite(xml.charCodeAt(start))) start += 1;
        const length = attributeEnd - start;
        for (let i = 0; i < seen.length; i += 2) {
          if (seen[i + 1] === length && same(xml, seen[i]!, start, length)) return undefined;
        }
        seen.push(start, length);
        const valueStart = at(ATTRIBUTE_EQUALS, xml, attributeEnd);
        if (valueStart < 0) return undefined;
        end = at(
          xml.charCodeAt(valueStart) === 0x22 ? DOUBLE_QUOTED : SINGLE_QUOTED,
          xml,
          valueStart,
        );
        if (end < 0) return undefined;
        // removeNSPrefix drops namespace declarations (xmlns, xmlns:p) and prefixes.
        if (
          xml.startsWith('xmlns', start) &&
          (length === 5 || xml.charCodeAt(start + 5) === 0x3a)
        ) {
          continue;
        }
        (element.attributes ??= []).push([
          localName(xml, start, attributeEnd),
          value(xml.slice(valueStart + 1, end - 1)),
        ]);
      }
      const tagEnd = at(OPEN_END, xml, end);
      if (tagEnd < 0) return undefined;
      position = tagEnd;
      if (xml.charCodeAt(tagEnd - 2) === 0x2f /* / */) {
        const parent = stack[stack.length - 1];
        if (parent) attach((parent.children ??= {}), name, valueOf(element));
        else {
          attach(top, name, valueOf(element));
          rootDone = true;
        }
      } else {
        if (stack.length >= maxDepth) return undefined;
        stack.push(element);
      }
    }
    if (!rootDone) {
      const textStart = position;
      position = at(TEXT, xml, position);
      const element = stack[stack.length - 1];
      if (element && position > textStart) {
        const text = value(xml.slice(textStart, position));
        if (text !== '') element.text += text;
      }
    }
  }
  return rootDone ? top : undefined;
}
