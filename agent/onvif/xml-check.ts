/**
 * A quick well-formedness check for the plain XML that ONVIF answers are, ahead of
 * fast-xml-parser's XMLValidator (soap.ts). Why: the validator builds every tag name and
 * every tag's attribute text one character at a time (`tagName += xmlData[i]`,
 * fast-xml-parser 5.12 src/validator.js), so a 1 KiB answer costs it ~39 KB of short-lived
 * strings, a 3 KiB GetProfiles ~110 KB: the envelope's namespace declarations alone are
 * hundreds of characters. At 500 devices (33 polls and 167 liveness probes a second) that
 * was about a quarter of everything the agent allocated, and what it allocates sets how
 * often the young generation is collected, hence how much of the requests in flight is
 * promoted to the old generation and its peak resident size (agent/README.md, Memory).
 *
 * This check reads the document with sticky regular expressions and index arithmetic, and
 * allocates nothing per tag. It accepts only a subset of what XMLValidator accepts, so it
 * never lets through a document that the validator would refuse: an optional XML
 * declaration at the very start, elements with ASCII names (one prefix at most),
 * attributes `name="value"` (no `<` or `&` in the value) separated by white space and
 * not repeated, text without `<`, entity references limited to the five of XML 1.0
 * section 4.6 and character references, one root element, white space around it.
 * Anything else (comments, CDATA, processing instructions, DOCTYPE, a BOM, non-ASCII
 * names) answers false, and the caller asks XMLValidator as before, whose error message
 * it keeps. test/unit/agent/xml-check.test.ts holds the subset to that promise on the
 * recorded answers of real devices and on thousands of damaged ones.
 */

// XML 1.0 white space as the validator counts it (space, tab, CR, LF; not \s).
const NAME = '[A-Za-z_][A-Za-z0-9_.-]*(?::[A-Za-z_][A-Za-z0-9_.-]*)?';
const DECLARATION = /<\?xml [^<>?]*\?>/y;
const WHITE = /[ \t\r\n]*/y;
const OPEN_NAME = new RegExp(`<${NAME}`, 'y');
const ATTRIBUTE_NAME = new RegExp(`[ \\t\\r\\n]+${NAME}`, 'y');
const ATTRIBUTE_VALUE = /[ \t\r\n]*=[ \t\r\n]*(?:"[^"<&]*"|'[^'<&]*')/y;
const OPEN_END = /[ \t\r\n]*\/?>/y;
const CLOSE_NAME = new RegExp(`</${NAME}`, 'y');
const CLOSE_END = /[ \t\r\n]*>/y;
const TEXT = /(?:[^<&]+|&(?:lt|gt|amp|quot|apos|#[0-9]+|#x[0-9A-Fa-f]+);)*/y;

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

/**
 * True when `xml` is well-formed within the subset above; false when it is not, or lies
 * outside the subset (ask XMLValidator then). Nesting deeper than `maxDepth` is false too.
 */
export function plainWellFormed(xml: string, maxDepth = 256): boolean {
  // Open elements, as [name start, name length] pairs.
  const open: number[] = [];
  // The attribute names of the tag being read, as pairs too (a duplicate is refused).
  const names: number[] = [];
  let position = at(DECLARATION, xml, 0);
  if (position < 0) position = 0;
  position = at(WHITE, xml, position);
  let rootDone = false;
  while (position < xml.length) {
    if (rootDone) return at(WHITE, xml, position) === xml.length;
    if (xml.charCodeAt(position) !== 0x3c /* < */) return false;
    if (xml.charCodeAt(position + 1) === 0x2f /* / */) {
      const nameEnd = at(CLOSE_NAME, xml, position);
      const depth = open.length;
      if (nameEnd < 0 || depth === 0) return false;
      const start = open[depth - 2] as number;
      const length = open[depth - 1] as number;
      if (nameEnd - position - 2 !== length || !same(xml, start, position + 2, length)) {
        return false;
      }
      position = at(CLOSE_END, xml, nameEnd);
      if (position < 0) return false;
      open.length = depth - 2;
      if (open.length === 0) rootDone = true;
    } else {
      let end = at(OPEN_NAME, xml, position);
      if (end < 0) return false;
      const nameStart = position + 1;
      const nameLength = end - nameStart;
      names.length = 0;
      for (;;) {
        const attributeEnd = at(ATTRIBUTE_NAME, xml, end);
        if (attributeEnd < 0) break;
        // The name follows the white space: find where it starts.
        let start = end;
        while (isWhite(xml.charCodeAt(start))) start += 1;
        const length = attributeEnd - start;
        for (let i = 0; i < names.length; i += 2) {
          if (names[i + 1] === length && same(xml, names[i] as number, start, length)) {
            return false;
          }
        }
        names.push(start, length);
        end = at(ATTRIBUTE_VALUE, xml, attributeEnd);
        if (end < 0) return false;
      }
      const tagEnd = at(OPEN_END, xml, end);
      if (tagEnd < 0) return false;
      position = tagEnd;
      if (xml.charCodeAt(tagEnd - 2) === 0x2f /* / */) {
        if (open.length === 0) rootDone = true;
      } else {
        if (open.length / 2 >= maxDepth) return false;
        open.push(nameStart, nameLength);
      }
    }
    if (!rootDone) position = at(TEXT, xml, position);
  }
  return rootDone;
}
