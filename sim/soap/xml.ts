/**
 * The only importer of fast-xml-parser in sim/. It turns request text into a small tree of
 * our own type with every element's namespace resolved (Namespaces in XML 1.0), so the
 * rest of the simulator never depends on which prefix a client chose: node-onvif writes
 * `<Security xmlns="...">` with a default namespace, gSOAP clients write `wsse:Security`.
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';

export interface XmlElement {
  /** Local name, without prefix. */
  name: string;
  /** Namespace URI of the element; '' when it has none. */
  ns: string;
  /** Attributes by local name; namespace declarations are left out. */
  attributes: Record<string, string>;
  children: XmlElement[];
  /** The element's own text content (CDATA included), trimmed. */
  text: string;
}

/** The request text is not well-formed XML, or breaks a rule SOAP adds to XML. */
export class XmlSyntaxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'XmlSyntaxError';
  }
}

/** Deeper nesting than any ONVIF request needs; a guard against hostile documents. */
const MAX_DEPTH = 64;

const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '',
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  ignoreDeclaration: true,
  ignorePiTags: true,
  maxNestedTags: MAX_DEPTH,
});

/** Parses one XML document into its root element. Throws XmlSyntaxError. */
export function parseXml(text: string): XmlElement {
  // SOAP 1.2 Part 1 section 5: a SOAP message MUST NOT contain a document type
  // declaration. Refusing it also rules out entity-expansion attacks.
  if (/<!DOCTYPE/i.test(text))
    throw new XmlSyntaxError('a document type declaration is not allowed');
  const validation = XMLValidator.validate(text);
  if (validation !== true) {
    const { msg, line, col } = validation.err;
    throw new XmlSyntaxError(`${msg} (line ${line}${col === undefined ? '' : `, column ${col}`})`);
  }
  let nodes: unknown;
  try {
    nodes = parser.parse(text);
  } catch (error) {
    throw new XmlSyntaxError(error instanceof Error ? error.message : String(error));
  }
  const rootScope = new Map([
    ['', ''],
    ['xml', 'http://www.w3.org/XML/1998/namespace'],
  ]);
  const roots = toElements(nodes, rootScope);
  if (roots.length !== 1)
    throw new XmlSyntaxError(`expected one root element, found ${roots.length}`);
  return roots[0] as XmlElement;
}

/** The first child with this local name (and namespace, when given). */
export function child(parent: XmlElement, name: string, ns?: string): XmlElement | undefined {
  return parent.children.find((c) => c.name === name && (ns === undefined || c.ns === ns));
}

/** Every child with this local name. */
export function childrenNamed(parent: XmlElement, name: string): XmlElement[] {
  return parent.children.filter((c) => c.name === name);
}

/** Text of the element found by following local names, or undefined if a step is missing. */
export function textAt(parent: XmlElement, ...path: string[]): string | undefined {
  let current: XmlElement | undefined = parent;
  for (const name of path) {
    current = current && child(current, name);
  }
  return current?.text;
}

/** Escapes text for element content and double-quoted attribute values. */
export function escapeXml(value: string): string {
  return value
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

/** fast-xml-parser's preserveOrder shape: `[{ "p:tag": [...children], ":@": {attrs} }, { "#text": "..." }]`. */
type OrderedNode = Record<string, unknown>;

function toElements(nodes: unknown, scope: ReadonlyMap<string, string>): XmlElement[] {
  if (!Array.isArray(nodes)) return [];
  const elements: XmlElement[] = [];
  for (const node of nodes as OrderedNode[]) {
    const qname = Object.keys(node).find((key) => key !== ':@' && key !== '#text');
    if (qname === undefined) continue;
    elements.push(toElement(qname, node, scope));
  }
  return elements;
}

function toElement(
  qname: string,
  node: OrderedNode,
  parentScope: ReadonlyMap<string, string>,
): XmlElement {
  const rawAttributes = (node[':@'] ?? {}) as Record<string, string>;
  const scope = new Map(parentScope);
  const attributes: Record<string, string> = {};
  for (const [name, value] of Object.entries(rawAttributes)) {
    if (name === 'xmlns') scope.set('', value);
    else if (name.startsWith('xmlns:')) scope.set(name.slice('xmlns:'.length), value);
  }
  for (const [name, value] of Object.entries(rawAttributes)) {
    if (name === 'xmlns' || name.startsWith('xmlns:')) continue;
    attributes[localName(name)] = value;
  }
  const { prefix, local } = splitName(qname);
  const ns = scope.get(prefix);
  // Namespaces in XML 1.0 section 5 (namespace constraint "Prefix Declared").
  if (ns === undefined)
    throw new XmlSyntaxError(`prefix "${prefix}" of <${qname}> is not declared`);
  const content = node[qname];
  const text = Array.isArray(content)
    ? (content as OrderedNode[])
        .map((c) => c['#text'])
        .filter((t): t is string => typeof t === 'string')
        .join('')
    : '';
  return { name: local, ns, attributes, children: toElements(content, scope), text };
}

function splitName(qname: string): { prefix: string; local: string } {
  const colon = qname.indexOf(':');
  return colon < 0
    ? { prefix: '', local: qname }
    : { prefix: qname.slice(0, colon), local: qname.slice(colon + 1) };
}

function localName(qname: string): string {
  return splitName(qname).local;
}
