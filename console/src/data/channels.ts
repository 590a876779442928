/**
 * Notification channels for the console (shared/api/notify.ts, channels section): what
 * each type asks for, and the test-send answer read from the API's 200 or 502. The
 * requests themselves go through ApiClient (./api.ts), the only caller of fetch.
 */
import {
  CHANNEL_SETTINGS,
  CHANNEL_TYPES,
  SECRET_SETTINGS,
} from '../../../shared/notify-channels.js';
import { ApiRequestError, type ApiClient } from './api.js';
import type { ChannelType, NotifyChannelTestResult } from './types.js';

/** The settings the form shows for each type, in order, and which are secrets (shared). */
export const channelFields: Readonly<Record<ChannelType, readonly string[]>> = CHANNEL_SETTINGS;
export const secretFields: ReadonlySet<string> = new Set(SECRET_SETTINGS);
export const channelTypes: readonly ChannelType[] = CHANNEL_TYPES;

/** The form's text fields as the API wants them: numbers, lists, nothing for empty. */
export function channelBody(type: ChannelType, data: FormData): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  for (const field of channelFields[type]) {
    const raw = String(data.get(field) ?? '').trim();
    if (raw === '') continue;
    if (field === 'port') body.port = Number(raw);
    else if (field === 'to') body.to = raw.split(/[,\s]+/).filter(Boolean);
    else body[field] = raw;
  }
  return body;
}

/** 200 delivered, or the service's refusal the API passes on with 502. */
export async function testChannel(
  client: ApiClient,
  id: string,
  to: { phone?: string; email?: string },
): Promise<NotifyChannelTestResult> {
  try {
    return await client.testChannel(id, to);
  } catch (error) {
    if (error instanceof ApiRequestError && error.status === 502) {
      return { delivered: false, code: error.code, message: error.message, retryable: false };
    }
    throw error;
  }
}
