/**
 * The liveness probe's one request (agent/liveness.ts): tds:GetSystemDateAndTime without
 * credentials (ONVIF Core 5.12.1), its bytes composed once per device, sent on the
 * device's kept connections (kept-http.ts) that its polls use too. The agent asks every
 * device this every 2 s, 250 requests a second at 500 devices, more than all its polls'
 * requests together (the simulator's log of bench:agent, agent/README.md).
 *
 * What the probe learns is unchanged: the answer is judged as soap.ts judges every SOAP
 * answer (soapAnswer: status, fault, well-formed XML) and must hold a
 * GetSystemDateAndTimeResponse (onvif/adapter.ts probe()); the clock reading itself is
 * the `reachable` check's. An answer that differs from the last accepted one only in
 * digits of its character data is judged as that one was (sameButDigits).
 */
import type { ExchangeTls } from './http-exchange.js';
import type { Http1Response } from './http1-response.js';
import { composeRequest, KeptConnections } from './kept-http.js';
// soap.ts's limit, so the probe refuses exactly what a poll refuses.
import { MAX_ANSWER_BYTES } from './soap.js';
import { OnvifError } from './types.js';

/** One device's probe request, on its kept connections. */
export class ProbeConnection {
  readonly #url: URL;
  readonly #request: Buffer;
  readonly #tls: ExchangeTls | undefined;
  readonly #connections: KeptConnections;

  /** `connections`: the device's (shared with its polls); absent, the probe's own. */
  constructor(
    url: string,
    headers: Record<string, string>,
    body: Buffer,
    tls?: ExchangeTls,
    connections?: KeptConnections,
  ) {
    this.#url = new URL(url);
    if (this.#url.protocol !== 'http:' && this.#url.protocol !== 'https:') {
      throw new OnvifError(
        'protocol-error',
        `${this.#url.protocol} device addresses are not supported`,
      );
    }
    this.#request = composeRequest('POST', this.#url, headers, body);
    this.#tls = tls;
    this.#connections = connections ?? new KeptConnections();
  }

  /** The answer, whatever its status; rejects as KeptConnections.ask does. */
  ask(timeoutMs: number, signal?: AbortSignal): Promise<Http1Response> {
    return this.#connections.ask(this.#url, this.#request, {
      timeoutMs,
      maxBytes: MAX_ANSWER_BYTES,
      ...(signal ? { signal } : {}),
      ...(this.#tls ? { tls: this.#tls } : {}),
    });
  }

  /** Closes the kept connections (tests). */
  close(): void {
    this.#connections.destroy();
  }
}

const LT = 0x3c;
const GT = 0x3e;
const AMP = 0x26;
const SEMICOLON = 0x3b;
const DQUOTE = 0x22;
const SQUOTE = 0x27;
const isDigit = (byte: number | undefined): boolean =>
  byte !== undefined && byte >= 0x30 && byte <= 0x39;

/**
 * `body` is `reference` byte for byte except for digits replaced by digits in character
 * data: not inside a tag (names, attribute values), not inside a reference (`&#49;`).
 * Such a document has the same elements, attributes, faults and well-formedness as the
 * reference (XML 1.0 section 2.4: character data is anything but `<` and `&`), so it is
 * judged as the reference was. A device answers GetSystemDateAndTime with the same bytes
 * every time but for its clock's digits; this spares the probe decoding and parsing an
 * answer it already judged (a seventh of the probe's CPU, bench/probe-cost.ts). Only for
 * ASCII-compatible encodings: a UTF-16 answer (a byte order mark first) is parsed.
 * Conservative where unsure (a quote or `>` inside a comment or CDATA section keeps the
 * tag state on): a changed digit there means a full parse, never a wrong verdict.
 */
export function sameButDigits(reference: Buffer, body: Buffer): boolean {
  if (reference.length !== body.length) return false;
  if (reference[0] === 0xff || reference[0] === 0xfe) return false;
  let inTag = false;
  let quote = 0;
  let inReference = false;
  for (let i = 0; i < body.length; i++) {
    const a = reference[i] as number;
    const b = body[i] as number;
    if (a !== b) {
      if (inTag || inReference || !isDigit(a) || !isDigit(b)) return false;
      continue;
    }
    if (inTag) {
      if (quote !== 0) {
        if (a === quote) quote = 0;
      } else if (a === DQUOTE || a === SQUOTE) {
        quote = a;
      } else if (a === GT) {
        inTag = false;
      }
    } else if (inReference) {
      if (a === SEMICOLON) inReference = false;
    } else if (a === LT) {
      inTag = true;
    } else if (a === AMP) {
      inReference = true;
    }
  }
  return true;
}
