/**
 * A real SMTP server for the email channel's tests (npm's smtp-server, RFC 5321 and
 * AUTH PLAIN/LOGIN of RFC 4954): checks the user and password (535 otherwise), keeps
 * every message it accepted, and can hang (accept the connection and never greet) for
 * the driver's timeout.
 */
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

export interface MailSeen {
  from: string;
  to: string[];
  raw: string;
  /** Whether the session was encrypted (implicit TLS or STARTTLS) when the mail came. */
  secure: boolean;
}

/** TLS of the server: none (a relay on loopback), STARTTLS offered (RFC 3207), or implicit (RFC 8314). */
export type SmtpTls =
  { mode: 'none' } | { mode: 'starttls' | 'implicit'; key: string; cert: string };

export class SmtpStandin {
  readonly mails: MailSeen[] = [];
  hang = false;
  port = 0;
  private server: SMTPServer | null = null;

  constructor(
    readonly user: string,
    readonly password: string,
    readonly tls: SmtpTls = { mode: 'none' },
  ) {}

  async start(): Promise<this> {
    const tls = this.tls;
    const server = new SMTPServer({
      secure: tls.mode === 'implicit',
      ...(tls.mode === 'none'
        ? // A relay on loopback without TLS; the driver's `tls: none`.
          { disabledCommands: ['STARTTLS'], allowInsecureAuth: true }
        : // With TLS, AUTH only once the session is encrypted, as a real relay does.
          { key: tls.key, cert: tls.cert, allowInsecureAuth: false }),
      authMethods: ['PLAIN', 'LOGIN'],
      logger: false,
      onConnect: (_session, callback) => {
        if (!this.hang) callback();
        // Hanging: the greeting never comes.
      },
      onAuth: (auth, _session, callback) => {
        if (auth.username === this.user && auth.password === this.password) {
          callback(null, { user: auth.username });
        } else {
          callback(
            Object.assign(new Error('Authentication credentials invalid'), { responseCode: 535 }),
          );
        }
      },
      onData: (stream, session, callback) => {
        const chunks: Buffer[] = [];
        stream.on('data', (chunk: Buffer) => chunks.push(chunk));
        stream.on('end', () => {
          this.mails.push({
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            to: session.envelope.rcptTo.map((r) => r.address),
            raw: Buffer.concat(chunks).toString('utf8'),
            secure: session.secure,
          });
          callback();
        });
      },
    });
    server.on('error', () => undefined);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.server = server;
    this.port = (server.server.address() as AddressInfo).port;
    return this;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = null;
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
