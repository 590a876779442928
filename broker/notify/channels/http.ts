/**
 * What every HTTP channel does the same way: one POST of JSON with a 10 s deadline (or
 * the caller's abort), and every way it can fail turned into a DeliveryResult, so a
 * driver never throws. The robots' URLs carry their token (DingTalk access_token, WeCom
 * key, Feishu hook id): `mask` and `scrub` keep it out of every message we return.
 */
import type { DeliveryResult } from './types.js';

/** Per request (issue 15): a robot that has not answered in 10 s is treated as down. */
export const REQUEST_TIMEOUT_MS = 10_000;

export interface HttpOptions {
  fetch?: typeof fetch;
  /** Tests shorten it; 10 s otherwise. */
  timeoutMs?: number;
}

export type Failure = Extract<DeliveryResult, { delivered: false }>;

export function failure(
  code: string,
  message: string,
  retryable: boolean,
  retryAfterMs?: number,
): Failure {
  return retryAfterMs === undefined
    ? { delivered: false, code, message, retryable }
    : { delivered: false, code, message, retryable, retryAfterMs };
}

/** "abcd…wxyz" for a long secret, "…" for a short one (too little left to hide it). */
export function mask(secret: string): string {
  return secret.length >= 12 ? `${secret.slice(0, 4)}…${secret.slice(-4)}` : '…';
}

/**
 * The URL with every query value masked and the path segments that look like a token
 * (Feishu's /open-apis/bot/v2/hook/<id>: 16 characters or more) masked too.
 */
export function maskUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return mask(raw);
  }
  const path = url.pathname
    .split('/')
    .map((part) => (part.length >= 16 ? mask(decodeURIComponent(part)) : part))
    .join('/');
  const query = [...url.searchParams].map(([key, value]) => `${key}=${mask(value)}`).join('&');
  const auth = url.username ? '…@' : '';
  return `${url.protocol}//${auth}${url.host}${path}${query ? `?${query}` : ''}`;
}

/** The secrets a URL carries: its query values, long path segments, user and password. */
export function urlSecrets(raw: string): string[] {
  try {
    const url = new URL(raw);
    return [
      ...[...url.searchParams.values()],
      ...url.pathname.split('/').filter((part) => part.length >= 16),
      url.username,
      url.password,
    ].filter((s) => s.length > 0);
  } catch {
    return [raw];
  }
}

/** `text` with each secret (and its URL-encoded form) replaced by its mask. */
export function scrub(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) {
    if (secret.length < 4) continue;
    for (const form of new Set([secret, encodeURIComponent(secret)])) {
      out = out.split(form).join(mask(secret));
    }
  }
  return out;
}

/** The deadline of one request: the caller's signal or our timeout, whichever first. */
export function deadline(signal: AbortSignal, timeoutMs: number): AbortSignal {
  return AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]);
}

/** Why a request that threw failed: aborted by us, timed out, or the network. */
export function thrown(
  error: unknown,
  signal: AbortSignal,
  timeoutMs: number,
  secrets: readonly string[],
): Failure {
  if (signal.aborted)
    return failure('aborted', 'The delivery was stopped (the broker is stopping).', true);
  const name = (error as { name?: string } | null)?.name;
  if (name === 'TimeoutError' || name === 'AbortError') {
    return failure(
      'timeout',
      `The service did not answer within ${timeoutMs / 1000} s; it is retried.`,
      true,
    );
  }
  const cause = (error as { cause?: { code?: string; message?: string } } | null)?.cause;
  const detail =
    cause?.code ?? cause?.message ?? (error instanceof Error ? error.message : String(error));
  return failure(
    'network',
    scrub(
      `The service could not be reached (${detail}); check the address and the network.`,
      secrets,
    ),
    true,
  );
}

export interface JsonAnswer {
  status: number;
  /** The parsed body; undefined when it is not JSON. */
  body: unknown;
  text: string;
}

/**
 * POSTs `body` as JSON and reads the answer; a thrown fetch becomes a Failure. HTTP
 * statuses are the caller's to judge (the robots answer 200 with an error code).
 */
export async function postJson(
  url: string,
  body: unknown,
  signal: AbortSignal,
  options: HttpOptions,
  secrets: readonly string[],
  headers: Record<string, string> = {},
): Promise<JsonAnswer | Failure> {
  const timeoutMs = options.timeoutMs ?? REQUEST_TIMEOUT_MS;
  const doFetch = options.fetch ?? fetch;
  try {
    const payload = typeof body === 'string' ? body : JSON.stringify(body);
    const response = await doFetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
      body: payload,
      signal: deadline(signal, timeoutMs),
    });
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    return { status: response.status, body: parsed, text };
  } catch (error) {
    return thrown(error, signal, timeoutMs, secrets);
  }
}

export function isFailure(value: JsonAnswer | Failure): value is Failure {
  return 'delivered' in value;
}

/** An HTTP status other than 2xx: 429 and 5xx are worth another try, the rest are not. */
export function httpFailure(answer: JsonAnswer, secrets: readonly string[]): Failure {
  const retryable = answer.status === 429 || answer.status >= 500;
  const snippet = answer.text.slice(0, 200).replace(/\s+/g, ' ').trim();
  return failure(
    `http-${answer.status}`,
    scrub(`The service answered HTTP ${answer.status}${snippet ? `: ${snippet}` : ''}.`, secrets),
    retryable,
  );
}

/** Cuts `text` to at most `maxBytes` of UTF-8 without splitting a character, marking the cut. */
export function cutBytes(text: string, maxBytes: number, mark = '\n…'): string {
  if (Buffer.byteLength(text, 'utf8') <= maxBytes) return text;
  const room = maxBytes - Buffer.byteLength(mark, 'utf8');
  let bytes = 0;
  let end = 0;
  for (const char of text) {
    const size = Buffer.byteLength(char, 'utf8');
    if (bytes + size > room) break;
    bytes += size;
    end += char.length;
  }
  return text.slice(0, end) + mark;
}

/**
 * A robot's answer as a DeliveryResult. The robots answer HTTP 200 with a code in the
 * body (DingTalk and WeCom `errcode`, Feishu `code`): 0 is delivered, anything else a
 * refusal with the service's code and message kept; `retry` names the codes worth
 * another try, with the wait the service asks for (null: the caller's backoff).
 */
export function robotResult(
  answer: JsonAnswer | Failure,
  secrets: readonly string[],
  service: string,
  read: (body: Record<string, unknown>) => { code: unknown; message: unknown },
  retry: Readonly<Record<number, number | null>>,
): DeliveryResult {
  if (isFailure(answer)) return answer;
  const body = answer.body;
  const { code, message } =
    typeof body === 'object' && body !== null
      ? read(body as Record<string, unknown>)
      : { code: undefined, message: undefined };
  if (typeof code !== 'number') {
    if (answer.status < 200 || answer.status > 299) return httpFailure(answer, secrets);
    return failure(
      'bad-answer',
      `${service} answered without a result code; check the robot URL.`,
      true,
    );
  }
  if (code === 0) return { delivered: true };
  const wait = retry[code];
  return failure(
    String(code),
    scrub(typeof message === 'string' ? message : '', secrets),
    wait !== undefined,
    wait ?? undefined,
  );
}
