/**
 * A throwaway certificate authority for TLS tests, made with Debian's openssl: a CA, a
 * server certificate for 127.0.0.1 and localhost, and a client certificate, all PEM
 * files in a temporary folder (deleted by `remove`).
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunningBroker } from '../../broker/app.js';
import { startTestBroker } from './broker.js';
import { silentLog, type Log } from './logs.js';

export interface TestCerts {
  dir: string;
  caFile: string;
  certFile: string;
  keyFile: string;
  ca: string;
  clientCert: string;
  clientKey: string;
  remove(): Promise<void>;
}

/** `caName`: the CA's common name; two CAs of the same name still differ in their keys. */
export async function makeCerts(options: { caName?: string } = {}): Promise<TestCerts> {
  const dir = await mkdtemp(join(tmpdir(), 'vigil-certs-'));
  const at = (name: string) => join(dir, name);
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  openssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'ca.key',
    '-out',
    'ca.crt',
    '-days',
    '2',
    '-subj',
    `/CN=${options.caName ?? 'Vigil test CA'}`,
  );
  await writeFile(at('server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  for (const [name, subject, ext] of [
    ['server', '/CN=localhost', ['-extfile', 'server.ext']],
    ['client', '/CN=site-a.gw-01', []],
  ] as const) {
    openssl(
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.csr`,
      '-subj',
      subject,
    );
    openssl(
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.crt',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      `${name}.crt`,
      '-days',
      '2',
      ...ext,
    );
  }
  return {
    dir,
    caFile: at('ca.crt'),
    certFile: at('server.crt'),
    keyFile: at('server.key'),
    ca: await readFile(at('ca.crt'), 'utf8'),
    clientCert: await readFile(at('client.crt'), 'utf8'),
    clientKey: await readFile(at('client.key'), 'utf8'),
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}

/**
 * The whole broker in this process (test/helpers/broker.ts) with plain MQTT on a free port
 * and a TLS listener that requires client certificates signed by `certs`' CA
 * (mqtt.tls.requireClientCert); stop() removes its folder.
 */
export async function startMutualTlsBroker(
  certs: TestCerts,
  log: Log = silentLog,
): Promise<RunningBroker> {
  return startTestBroker({
    settings: {
      mqtt: {
        tls: {
          port: 0,
          cert: certs.certFile,
          key: certs.keyFile,
          ca: certs.caFile,
          requireClientCert: true,
        },
      },
    },
    log,
  });
}
