/**
 * Email over SMTP through nodemailer (this file is its only importer): host, port, TLS
 * (implicit TLS on connect, RFC 8314, usually port 465; STARTTLS required, RFC 3207,
 * usually 587; or none, for a relay on the same network), user, a password read from a
 * file at each send (rotated without a restart, never stored in the database), from.
 * The SMTP server's reply code (RFC 5321 section 4.2: 4yz transient, 5yz permanent) is
 * the result's code; a 4yz reply or a lost connection is retried, a 5yz one is not.
 */
import { readFile } from 'node:fs/promises';
import nodemailer from 'nodemailer';
import { failure, REQUEST_TIMEOUT_MS, scrub } from './http.js';
import type { ChannelDriver, DeliveryResult, OutgoingMessage } from './types.js';

export type EmailTls = 'implicit' | 'starttls' | 'none';

export interface EmailSettings {
  host: string;
  port: number;
  tls: EmailTls;
  user?: string | null;
  /** A file holding the SMTP password (first line); a secret itself, never shown. */
  passwordFile?: string | null;
  from: string;
  /** Addresses that get every message besides the recipients' own (a team mailbox). */
  to?: string[] | null;
  /** Accept a self-signed server certificate (a local relay); false by default. */
  allowSelfSigned?: boolean | null;
}

/** nodemailer's error codes for the connection itself: worth another try. */
const TRANSIENT = new Set(['ECONNECTION', 'ETIMEDOUT', 'ESOCKET', 'EDNS', 'ECONNRESET']);

export class EmailDriver implements ChannelDriver {
  readonly type = 'email' as const;
  readonly perMinute = null;

  constructor(
    private readonly settings: EmailSettings,
    private readonly options: { timeoutMs?: number } = {},
  ) {}

  async send(message: OutgoingMessage, signal: AbortSignal): Promise<DeliveryResult> {
    const to = [
      ...new Set([
        ...message.to.flatMap((r) => (r.email ? [r.email] : [])),
        ...(this.settings.to ?? []),
      ]),
    ];
    if (to.length === 0) {
      return failure(
        'no-recipient',
        'Nobody this message is for has an email address, and the channel names none; add one.',
        false,
      );
    }
    let password: string | undefined;
    if (this.settings.passwordFile) {
      try {
        password = (await readFile(this.settings.passwordFile, 'utf8')).split(/\r?\n/)[0];
      } catch (error) {
        const code = (error as { code?: string }).code ?? 'unreadable';
        return failure(
          'password-file',
          `The SMTP password file cannot be read (${code}); check the channel's password file and its permissions.`,
          false,
        );
      }
    }
    const secrets = password ? [password] : [];
    const timeoutMs = this.options.timeoutMs ?? REQUEST_TIMEOUT_MS;
    const transport = nodemailer.createTransport({
      host: this.settings.host,
      port: this.settings.port,
      secure: this.settings.tls === 'implicit',
      requireTLS: this.settings.tls === 'starttls',
      ignoreTLS: this.settings.tls === 'none',
      ...(this.settings.user ? { auth: { user: this.settings.user, pass: password ?? '' } } : {}),
      connectionTimeout: timeoutMs,
      greetingTimeout: timeoutMs,
      socketTimeout: timeoutMs,
      tls: { rejectUnauthorized: !this.settings.allowSelfSigned },
    });
    // A transport without a pool has no way to cancel a send: the broker's stop answers
    // at once, and the connection ends by its own timeouts.
    let stop = (): void => undefined;
    const aborted = new Promise<never>((_resolve, reject) => {
      stop = () => reject(Object.assign(new Error('aborted'), { code: 'EABORT' }));
      if (signal.aborted) stop();
    });
    signal.addEventListener('abort', stop, { once: true });
    try {
      await Promise.race([
        transport.sendMail({
          from: this.settings.from,
          to,
          subject: message.title,
          text: message.text,
        }),
        aborted,
      ]);
      return { delivered: true };
    } catch (error) {
      if (signal.aborted)
        return failure('aborted', 'The delivery was stopped (the broker is stopping).', true);
      const e = error as {
        code?: string;
        command?: string;
        responseCode?: number;
        response?: string;
        message?: string;
      };
      if (e.command === 'STARTTLS' || e.code === 'ETLS') {
        // Required TLS the server cannot give: never fall back to a clear session.
        return failure(
          'starttls',
          scrub(
            `The SMTP server refused STARTTLS (${e.response ?? e.message ?? e.code}); set TLS to implicit (port 465), or none only for a relay on a trusted network.`,
            secrets,
          ),
          false,
        );
      }
      if (e.responseCode !== undefined) {
        return failure(
          String(e.responseCode),
          scrub(e.response ?? e.message ?? '', secrets),
          e.responseCode < 500,
        );
      }
      const code = e.code ?? 'smtp';
      const timedOut = code === 'ETIMEDOUT' || /timeout/i.test(e.message ?? '');
      return failure(
        timedOut ? 'timeout' : TRANSIENT.has(code) ? 'network' : code,
        timedOut
          ? `The SMTP server did not answer within ${timeoutMs / 1000} s; it is retried.`
          : scrub(`SMTP: ${e.message ?? code}`, secrets),
        timedOut || TRANSIENT.has(code),
      );
    } finally {
      signal.removeEventListener('abort', stop);
      transport.close();
    }
  }
}
