/**
 * HTTPS to a device service (docs/ONVIF.md, HTTPS and pinning). Self-signed certificates
 * are the rule on cameras and NVRs, so there is no chain to verify: the agent pins the
 * SHA-256 fingerprint of the leaf certificate at the first connection (tls-pins.ts) and
 * refuses any other later. With a CA file in the config (`tls.caFile`, per agent or per
 * device) the chain and the name are verified instead (RFC 5280, RFC 6125), as a browser does.
 *
 * The TLS connection is made and judged here before the HTTP request is handed the socket
 * (node:http's `createConnection`): not one byte of a request, so no credential and no
 * UsernameToken, goes to a certificate we refuse.
 */
import { isIP } from 'node:net';
import tls from 'node:tls';
import type { PinStore } from '../tls-pins.js';
import { OnvifError } from './types.js';

export interface TlsConnectOptions {
  timeoutMs: number;
  signal?: AbortSignal;
}

/** How one device's HTTPS connections are trusted. */
export interface DeviceTls {
  /**
   * A TLS connection to host:port whose certificate this policy accepts; rejects with an
   * OnvifError (certificate-changed, certificate-untrusted, unreachable, timeout) otherwise.
   */
  connect(host: string, port: number, options: TlsConnectOptions): Promise<tls.TLSSocket>;
}

/** URL.hostname keeps an IPv6 literal in brackets; sockets and name checks want it bare. */
function bare(host: string): string {
  return host.replace(/^\[(.*)\]$/, '$1');
}

/**
 * `host:port` of a TLS connection, as pins are keyed (tls-pins.ts): the host lower-cased
 * (RFC 3986 section 3.2.2: case does not matter), an IPv6 literal in brackets whether it
 * came with them (URL.hostname) or bare.
 */
export function endpointOf(host: string, port: number): string {
  const name = bare(host).toLowerCase();
  return `${name.includes(':') ? `[${name}]` : name}:${port}`;
}

/** The endpoint of an https URL (port 443 unless it names one). */
export function endpointOfUrl(url: string): string {
  const parsed = new URL(url);
  return endpointOf(parsed.hostname, Number(parsed.port || 443));
}

/** The certificate `host` presents and whether its chain verifies against `ca`. */
function handshake(
  host: string,
  port: number,
  options: TlsConnectOptions & { ca?: Buffer },
): Promise<tls.TLSSocket> {
  host = bare(host);
  return new Promise((resolve, reject) => {
    const socket = tls.connect({
      host,
      port,
      // RFC 6066 section 3: no IP literal in the server name indication.
      ...(isIP(host) === 0 ? { servername: host } : {}),
      // Judged below, after the handshake and before any data: pinning needs the
      // self-signed certificate that default verification would reject.
      rejectUnauthorized: false,
      ...(options.ca ? { ca: options.ca } : {}),
    });
    let done = false;
    const finish = (error: OnvifError | null): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      if (error) {
        socket.destroy();
        reject(error);
      } else {
        resolve(socket);
      }
    };
    const timer = setTimeout(
      () =>
        finish(
          new OnvifError(
            'timeout',
            `no TLS handshake with ${host}:${port} within ${options.timeoutMs} ms`,
          ),
        ),
      options.timeoutMs,
    );
    const onAbort = (): void =>
      finish(new OnvifError('timeout', 'the poll was cancelled before the TLS handshake ended'));
    if (options.signal?.aborted) return onAbort();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    socket.once('secureConnect', () => finish(null));
    socket.once('error', (error: NodeJS.ErrnoException) => {
      const kind = error.code === 'ETIMEDOUT' ? 'timeout' : 'unreachable';
      finish(new OnvifError(kind, `TLS ${host}:${port}: ${error.code ?? error.message}`));
    });
    socket.once('close', () =>
      finish(new OnvifError('unreachable', `TLS ${host}:${port}: closed during the handshake`)),
    );
  });
}

/** The SHA-256 fingerprint of the leaf certificate, as OpenSSL prints it (AB:CD:...). */
export function leafFingerprint(socket: tls.TLSSocket): string {
  const fingerprint = socket.getPeerCertificate().fingerprint256;
  if (!fingerprint) {
    throw new OnvifError('protocol-error', 'the device presented no TLS certificate');
  }
  return fingerprint.toUpperCase();
}

/** A finished handshake and the leaf certificate's fingerprint, before any byte is sent. */
async function shown(
  host: string,
  port: number,
  options: TlsConnectOptions,
): Promise<{ socket: tls.TLSSocket; presented: string }> {
  const socket = await handshake(host, port, options);
  try {
    return { socket, presented: leafFingerprint(socket) };
  } catch (error) {
    socket.destroy();
    throw error;
  }
}

/** The fingerprint a device presents now, for `vigil agent trust` (nothing is pinned). */
export async function presentedFingerprint(
  host: string,
  port: number,
  options: TlsConnectOptions,
): Promise<string> {
  const { socket, presented } = await shown(host, port, options);
  socket.destroy();
  return presented;
}

/**
 * Any certificate, remembered: `vigil agent check` without a confirmed certificate looks
 * once, without credentials, and shows the engineer what the device presents; nothing is
 * pinned and no poll uses it.
 */
export class ObservedTls implements DeviceTls {
  fingerprint: string | null = null;

  async connect(host: string, port: number, options: TlsConnectOptions): Promise<tls.TLSSocket> {
    const { socket, presented } = await shown(host, port, options);
    this.fingerprint = presented;
    return socket;
  }
}

/**
 * The one certificate an engineer confirmed (`vigil agent check --fingerprint`): any other
 * is refused before a byte of the request, so the credentials go to that device only.
 */
export class GivenTls implements DeviceTls {
  readonly #fingerprint: string;

  /** `fingerprint`: SHA-256, upper case (AB:CD:...). */
  constructor(fingerprint: string) {
    this.#fingerprint = fingerprint;
  }

  async connect(host: string, port: number, options: TlsConnectOptions): Promise<tls.TLSSocket> {
    const { socket, presented } = await shown(host, port, options);
    if (presented === this.#fingerprint) return socket;
    socket.destroy();
    throw new OnvifError(
      'certificate-untrusted',
      `the device at ${endpointOf(host, port)} presents HTTPS certificate SHA-256 ${presented}, not ${this.#fingerprint} given with --fingerprint; nothing was sent to it`,
    );
  }
}

/**
 * Trust on first use: the certificate pinned for `deviceId` at the host:port connected to,
 * or the first one seen there. A device names other https addresses than its service
 * (snapshot URIs, pull points: adapter.ts), each with a certificate of its own, so each is
 * pinned apart. `pins` gives the agent's store of the moment (a restart with another data
 * folder makes a new one, while a device's client may be kept); `xaddr` is the device
 * service, where pins made before they were per address belong.
 */
export class PinnedTls implements DeviceTls {
  readonly #pins: () => PinStore;
  readonly #deviceId: string;
  readonly #service: string;

  constructor(pins: () => PinStore, deviceId: string, xaddr: string) {
    this.#pins = pins;
    this.#deviceId = deviceId;
    this.#service = endpointOfUrl(xaddr);
  }

  async connect(host: string, port: number, options: TlsConnectOptions): Promise<tls.TLSSocket> {
    const { socket, presented } = await shown(host, port, options);
    const endpoint = endpointOf(host, port);
    const verdict = this.#pins().verify(
      { deviceId: this.#deviceId, endpoint, service: endpoint === this.#service },
      presented,
    );
    if (verdict.ok) return socket;
    socket.destroy();
    if (verdict.pinned === null) {
      throw new OnvifError('certificate-untrusted', `${verdict.why}; nothing was sent to it`);
    }
    throw new OnvifError(
      'certificate-changed',
      `the device presents another HTTPS certificate at ${endpoint} than the one pinned there: pinned SHA-256 ${verdict.pinned}, presented ${verdict.presented}; nothing was sent to it. Accept the new one if the device was replaced or its certificate renewed`,
      { pinned: verdict.pinned, presented: verdict.presented },
    );
  }
}

/** A CA file from the config: the chain and the device's name (or IP) are verified. */
export class CaTls implements DeviceTls {
  readonly #ca: Buffer;

  constructor(ca: Buffer) {
    this.#ca = ca;
  }

  async connect(host: string, port: number, options: TlsConnectOptions): Promise<tls.TLSSocket> {
    const socket = await handshake(host, port, { ...options, ca: this.#ca });
    // node verified the chain against the CA during the handshake; the name is checked
    // here because it is not when verification is left to us (RFC 6125 section 6).
    const error =
      socket.authorizationError ??
      tls.checkServerIdentity(bare(host), socket.getPeerCertificate())?.message;
    if (!socket.authorized || error) {
      let presented = 'unknown';
      try {
        presented = leafFingerprint(socket);
      } catch {
        // No certificate at all: said as unknown.
      }
      socket.destroy();
      throw new OnvifError(
        'certificate-untrusted',
        `the device's HTTPS certificate (SHA-256 ${presented}) is not trusted by the configured CA file: ${String(error ?? 'not authorized')}; nothing was sent to it`,
      );
    }
    return socket;
  }
}
