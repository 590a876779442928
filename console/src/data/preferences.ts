/**
 * The language and the time zone before anyone signs in: what this browser's last user
 * chose (localStorage), else the browser's own. After sign-in the user's choice on the
 * server wins. The zone matters before sign-in for a locked login's end, which the login
 * screen gives in it (with its offset, so nobody misreads it when it is another's).
 */
import type { Locale } from './types.js';

const KEY = 'vigil.locale';
const ZONE_KEY = 'vigil.timeZone';

/** The parts of the browser this file uses, typed here so Node's type check (tests) passes. */
interface Browser {
  localStorage?: {
    getItem(key: string): string | null;
    setItem(key: string, value: string): void;
    removeItem(key: string): void;
  };
  navigator?: { languages?: readonly string[] };
}
const browser = globalThis as Browser;

function isLocale(value: unknown): value is Locale {
  return value === 'en' || value === 'zh-CN';
}

export function storedLocale(): Locale | null {
  try {
    const value = browser.localStorage?.getItem(KEY);
    return isLocale(value) ? value : null;
  } catch {
    // Storage can be disabled (privacy settings); the browser's language then decides.
    return null;
  }
}

export function storeLocale(locale: Locale): void {
  try {
    browser.localStorage?.setItem(KEY, locale);
  } catch {
    // Not remembered in this browser; the server still remembers it per user.
  }
}

/** The zone this browser's last user chose (an IANA name); null: the browser's own. */
export function storedTimeZone(): string | null {
  try {
    const value = browser.localStorage?.getItem(ZONE_KEY) ?? null;
    // A name this browser's Intl does not know (edited by hand) is no zone.
    if (value === null || value === '') return null;
    new Intl.DateTimeFormat('en', { timeZone: value });
    return value;
  } catch {
    return null;
  }
}

export function storeTimeZone(timeZone: string | null): void {
  try {
    if (timeZone === null) browser.localStorage?.removeItem(ZONE_KEY);
    else browser.localStorage?.setItem(ZONE_KEY, timeZone);
  } catch {
    // Not remembered in this browser; the server still remembers it per user.
  }
}

/** zh, zh-CN, zh-Hans... read Chinese; everything else English. */
export function browserLocale(): Locale {
  const languages = browser.navigator?.languages ?? [];
  return languages.some((tag) => tag.toLowerCase().startsWith('zh')) ? 'zh-CN' : 'en';
}

export function initialLocale(): Locale {
  return storedLocale() ?? browserLocale();
}
