/**
 * Self-signed certificates for simulated HTTPS device services, as cameras make their
 * own at first boot (Hikvision, Dahua, Axis: a self-signed certificate for the device's
 * address, never signed by a CA the client knows). Made at start with Debian's openssl
 * (as test/helpers/certs.ts does): openssl writes key.pem into a fresh temporary folder
 * (mkdtemp: mode 0700, so only our user can read it), the simulator reads it and removes
 * the folder at once. So the key is on disk for the moment openssl takes, in the system's
 * temporary folder, and afterwards only in the simulator's memory; never in the repository.
 */
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { isIP } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** A certificate and its key (PEM), with the SHA-256 fingerprint a client pins. */
export interface TlsIdentity {
  cert: string;
  key: string;
  /** As OpenSSL and node print it: AB:CD:... */
  fingerprint: string;
}

/** The SHA-256 fingerprint of a PEM certificate. */
export function fingerprintOf(cert: string): string {
  return new X509Certificate(cert).fingerprint256;
}

/**
 * A new self-signed certificate (EC P-256, ten years, as camera firmware makes them) for
 * `host`, in its subjectAltName; each call makes a new key, so a new fingerprint.
 */
export async function selfSignedIdentity(commonName: string, host: string): Promise<TlsIdentity> {
  const dir = await mkdtemp(join(tmpdir(), 'vigil-sim-tls-'));
  try {
    const san = isIP(host) ? `IP:${host}` : `DNS:${host}`;
    await run(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-keyout',
        'key.pem',
        '-out',
        'cert.pem',
        '-days',
        '3650',
        '-subj',
        `/CN=${commonName}`,
        '-addext',
        `subjectAltName=${san}`,
      ],
      { cwd: dir },
    ).catch((error: NodeJS.ErrnoException) => {
      throw new Error(
        error.code === 'ENOENT'
          ? 'sim: an HTTPS device needs the openssl command to make its certificate; install it (Debian: apt-get install openssl)'
          : `sim: openssl could not make a certificate: ${error.message}`,
      );
    });
    const [cert, key] = await Promise.all([
      readFile(join(dir, 'cert.pem'), 'utf8'),
      readFile(join(dir, 'key.pem'), 'utf8'),
    ]);
    return { cert, key, fingerprint: fingerprintOf(cert) };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
