/**
 * What the agent's two HTTP clients (node:http in http-exchange.ts, our own kept
 * connections in kept-http.ts) share about sockets, in a file of its own so that neither
 * imports the other back.
 */
import type { Socket } from 'node:net';
import type { OnvifFailureKind } from './types.js';

/**
 * The host of a URL as a socket wants it. URL.hostname keeps an IPv6 literal in brackets
 * (WHATWG URL, host serializer; RFC 3986 section 3.2.2), and http.request and net.connect
 * would look `[fe80::1]` up in DNS (ENOTFOUND).
 */
export function socketHost(url: URL): string {
  const host = url.hostname;
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

/**
 * The TLS of an https:// device address: how one device's connections are trusted (the
 * pinned fingerprint, or a CA file), as device-tls.ts's DeviceTls provides it. The
 * connection is made and judged before a byte of the request is written, so no
 * credential goes to a certificate we refuse.
 */
export interface ExchangeTls {
  connect(
    host: string,
    port: number,
    options: { timeoutMs: number; signal?: AbortSignal },
  ): Promise<Socket>;
}

/**
 * A socket error before an answer: the OS's own connect timeout is a timeout; refused,
 * reset, no route (ECONNREFUSED, ECONNRESET, EHOSTUNREACH, ENETUNREACH, ENOTFOUND ...) and
 * anything else that kills the connection ("socket hang up") mean the device is not there.
 */
export function classifySocketError(error: NodeJS.ErrnoException): OnvifFailureKind {
  return error.code === 'ETIMEDOUT' ? 'timeout' : 'unreachable';
}
