/**
 * The two media checks that are not SOAP: an RTSP DESCRIBE of a stream URI (RTSP 1.0,
 * RFC 2326 section 10.2) and an HTTP GET of a snapshot URI (ONVIF Media 5.16.1). Both
 * with one deadline for the whole exchange; the socket is destroyed when it passes.
 * Credentials are never put into the URIs (they would end up in logs).
 */
import http from 'node:http';
import { connect } from 'node:net';
import { OnvifError } from './types.js';

export interface ProbeOptions {
  timeoutMs: number;
  signal?: AbortSignal;
}

/** Runs `start` with a deadline and abort signal; `cleanup` destroys the socket. */
function guarded<T>(
  options: ProbeOptions,
  start: (resolve: (value: T) => void, reject: (error: OnvifError) => void) => () => void,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let cleanup: () => void = () => undefined;
    let done = false;
    const finish = (fn: () => void): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      cleanup();
      fn();
    };
    const timer = setTimeout(
      () =>
        finish(() => reject(new OnvifError('timeout', `no answer within ${options.timeoutMs} ms`))),
      options.timeoutMs,
    );
    const onAbort = (): void =>
      finish(() => reject(new OnvifError('timeout', 'the poll was cancelled')));
    if (options.signal?.aborted) return onAbort();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    cleanup = start(
      (value) => finish(() => resolve(value)),
      (error) => finish(() => reject(error)),
    );
  });
}

/** The status code of an RTSP DESCRIBE of `uri` (200: the stream is described). */
export function rtspDescribe(uri: string, options: ProbeOptions): Promise<number> {
  const url = new URL(uri);
  // RFC 2326 section 3.2: the Request-URI without userinfo.
  url.username = '';
  url.password = '';
  return guarded<number>(options, (resolve, reject) => {
    const socket = connect(Number(url.port || 554), url.hostname);
    let answer = '';
    socket.setEncoding('latin1');
    socket.on('connect', () => {
      socket.write(
        `DESCRIBE ${url.toString()} RTSP/1.0\r\nCSeq: 1\r\nAccept: application/sdp\r\nUser-Agent: vigil-agent\r\n\r\n`,
      );
    });
    socket.on('data', (chunk: string) => {
      answer += chunk;
      const line = answer.split('\r\n', 1)[0] ?? '';
      if (!answer.includes('\r\n')) return;
      const match = /^RTSP\/1\.\d (\d{3})/.exec(line);
      if (match) resolve(Number(match[1]));
      else reject(new OnvifError('protocol-error', `not an RTSP answer: ${line.slice(0, 80)}`));
    });
    socket.on('error', (error: NodeJS.ErrnoException) =>
      reject(new OnvifError('unreachable', `RTSP ${url.host}: ${error.code ?? error.message}`)),
    );
    socket.on('close', () =>
      reject(
        new OnvifError('unreachable', `RTSP ${url.host}: the connection closed without an answer`),
      ),
    );
    return () => socket.destroy();
  });
}

/** The bytes of an HTTP GET (a snapshot), at most `maxBytes`. */
export function httpGet(
  uri: string,
  options: ProbeOptions & { maxBytes?: number },
): Promise<Buffer> {
  const max = options.maxBytes ?? 8 * 1024 * 1024;
  return guarded<Buffer>(options, (resolve, reject) => {
    const req = http.get(uri, { agent: false }, (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        const kind =
          res.statusCode === 401 || res.statusCode === 403 ? 'auth-failed' : 'protocol-error';
        reject(new OnvifError(kind, `the snapshot URI answered HTTP ${res.statusCode}`));
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > max)
          reject(new OnvifError('protocol-error', `snapshot larger than ${max} bytes`));
        else chunks.push(chunk);
      });
      res.on('end', () => resolve(Buffer.concat(chunks)));
      res.on('error', (error) => reject(new OnvifError('unreachable', error.message)));
    });
    req.on('error', (error: NodeJS.ErrnoException) =>
      reject(new OnvifError('unreachable', `snapshot: ${error.code ?? error.message}`)),
    );
    return () => req.destroy();
  });
}
