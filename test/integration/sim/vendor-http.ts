/**
 * The vendor APIs' tests talk to the simulator as an installer's script would: curl with
 * its own HTTP Digest (RFC 7616, independent of our agent and of the simulator's checker),
 * one process per request, so both sides of the challenge are the real thing.
 */
import { execFile } from 'node:child_process';
import { afterAll, afterEach, beforeAll } from 'vitest';
import type { SimSite } from '../../../sim/site.js';
import { parseXml, type XmlElement } from '../../../sim/soap/xml.js';

export interface Account {
  username: string;
  password: string;
}

export interface CurlAnswer {
  code: number;
  body: string;
}

/**
 * GET (or `method`) `url` with curl's Digest (`--basic`: Basic instead). `-g`: the Dahua
 * CGI's `uniqueChannels[0]` is a query, not a curl URL range. Asynchronous: the simulator
 * answers from this very process.
 */
export function curl(
  url: string,
  account: Account,
  options: { method?: string; basic?: boolean } = {},
): Promise<CurlAnswer> {
  const args = ['-s', '-g', options.basic ? '--basic' : '--digest'];
  args.push('-u', `${account.username}:${account.password}`, '-w', '\n%{response_code}');
  if (options.method) args.push('-X', options.method);
  args.push(url);
  return new Promise((resolve, reject) => {
    execFile('curl', args, { encoding: 'utf8', timeout: 10_000 }, (error, out) => {
      if (error && out.length === 0) return reject(error);
      const cut = out.lastIndexOf('\n');
      resolve({ code: Number(out.slice(cut + 1)), body: out.slice(0, cut) });
    });
  });
}

/** An ISAPI document's root, namespaces resolved. */
export function xmlOf(answer: CurlAnswer): XmlElement {
  return parseXml(answer.body);
}

/** A Dahua `key=value` answer (CRLF lines) as a map. */
export function pairsOf(answer: CurlAnswer): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of answer.body.split('\r\n')) {
    const at = line.indexOf('=');
    if (at > 0) out.set(line.slice(0, at), line.slice(at + 1));
  }
  return out;
}

/**
 * Starts the site for the file's tests (unless `skip` says why not), resets it after each
 * (the lockout tests try wrong passwords on purpose) and stops it at the end.
 */
export function runSite(site: SimSite, skip: string | null): void {
  beforeAll(async () => {
    if (!skip) await site.start();
  });
  afterEach(async () => {
    if (!skip) await site.reset();
  });
  afterAll(async () => {
    if (!skip) await site.stop();
  });
}
