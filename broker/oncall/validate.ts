/**
 * The checks of on-call data that a schema cannot say clearly: a phone number the robots
 * and SMS can use, an email address, a time zone Intl knows. Each failure is one line
 * "field: what is wrong, what to send instead", as the API's other errors are.
 */
import { isTimeZone } from './rota.js';

/**
 * Mainland China mobile numbers: 11 digits, 1 then 3-9 (the MIIT numbering plan's mobile
 * blocks 13x-19x). DingTalk's at.atMobiles, WeCom's mentioned_mobile_list and Alibaba
 * Cloud SendSms PhoneNumbers take them in this bare form, without +86.
 */
const MAINLAND_MOBILE = /^1[3-9]\d{9}$/;

/** The bare 11 digits of a mainland mobile as typed ("+86 138-0013-8000"), or an error line. */
export function normalizePhone(
  raw: string,
): { ok: true; phone: string } | { ok: false; error: string } {
  const phone = raw.replace(/[\s\-()]/g, '').replace(/^(\+86|0086)/, '');
  if (MAINLAND_MOBILE.test(phone)) return { ok: true, phone };
  return {
    ok: false,
    error: `phone: "${raw}" is not a mainland mobile number; send 11 digits starting with 1, e.g. 13800138000 (a leading +86, spaces and dashes are allowed)`,
  };
}

/** Enough to catch a typo (a missing @ or domain); the mail server has the last word. */
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@.]+$/;

export function emailError(email: string): string | null {
  return EMAIL.test(email)
    ? null
    : `email: "${email}" is not an email address; send one like zhang.wei@example.com`;
}

/**
 * An IANA Area/Location name (or UTC). Intl also takes the tz database's legacy names,
 * but an abbreviation misleads here: to the tz database "CST" is US Central time
 * (America/Chicago), while in China it means China Standard Time; the database's own
 * theory file calls such names obsolete, kept only for compatibility.
 */
export function timeZoneError(timeZone: string): string | null {
  const areaLocation = timeZone.includes('/') || timeZone.toUpperCase() === 'UTC';
  if (areaLocation && isTimeZone(timeZone)) return null;
  return `timeZone: "${timeZone}" is not an IANA time zone; send one like Asia/Shanghai or Europe/Berlin${
    areaLocation
      ? ''
      : ' (abbreviations such as CST are ambiguous: to the tz database CST is Chicago)'
  }`;
}

/**
 * Feishu robots mention a person as `<at user_id="ou_...">` with their open_id, which
 * starts with "ou_" (Feishu Open Platform, "User identities": open_id, union_id "on_",
 * user_id without prefix). A user_id or union_id would mention nobody.
 */
export function feishuOpenIdError(openId: string): string | null {
  return openId.startsWith('ou_')
    ? null
    : `feishuOpenId: "${openId}" is not an open_id; send the one starting with ou_ (not the user_id or the union_id on_...)`;
}
