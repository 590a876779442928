/** A bare HTTP client for the simulator's tests: one connection per request, no pooling. */
import { request } from 'node:http';

export interface HttpAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  bytes: Buffer;
}

export function send(
  url: string,
  options: {
    method?: string;
    body?: string;
    contentType?: string;
    timeoutMs?: number;
    headers?: Record<string, string>;
  } = {},
): Promise<HttpAnswer> {
  const { method = 'GET', body, contentType = 'application/soap+xml; charset=utf-8' } = options;
  return new Promise((resolve, reject) => {
    const req = request(url, { method, agent: false, headers: options.headers ?? {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const bytes = Buffer.concat(chunks);
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: bytes.toString('utf8'),
          bytes,
        });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.setTimeout(options.timeoutMs ?? 5000, () => {
      req.destroy(new Error(`no answer within ${options.timeoutMs ?? 5000} ms`));
    });
    if (body !== undefined) {
      req.setHeader('Content-Type', contentType);
      req.setHeader('Content-Length', Buffer.byteLength(body));
      req.end(body);
    } else req.end();
  });
}
