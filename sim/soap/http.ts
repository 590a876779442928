/**
 * The HTTP side of SOAP: read the request body within a limit, send an answer with
 * Content-Type application/soap+xml (SOAP 1.2 Part 2 section 7) and always a
 * Content-Length, which some ONVIF clients (onvif-util) cannot do without.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SoapAnswer } from './answer.js';

/** Far above any ONVIF request; a larger body is refused, not buffered. */
export const MAX_BODY_BYTES = 256 * 1024;

export class BodyTooLargeError extends Error {
  constructor() {
    super(`request body larger than ${MAX_BODY_BYTES} bytes`);
    this.name = 'BodyTooLargeError';
  }
}

export function readBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.removeAllListeners('data');
        req.resume();
        reject(new BodyTooLargeError());
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

export function sendSoap(res: ServerResponse, answer: SoapAnswer): void {
  const body = Buffer.from(answer.xml, 'utf8');
  res.writeHead(answer.status, {
    'Content-Type': 'application/soap+xml; charset=utf-8',
    'Content-Length': body.length,
  });
  res.end(body);
}

/** A short plain-text answer for what is not SOAP (wrong path or method). */
export function sendText(
  res: ServerResponse,
  status: number,
  text: string,
  headers: Record<string, string> = {},
): void {
  const body = Buffer.from(`${text}\n`, 'utf8');
  res.writeHead(status, {
    'Content-Type': 'text/plain; charset=utf-8',
    ...headers,
    'Content-Length': body.length,
  });
  res.end(body);
}
