/**
 * The language before anyone signs in: what this browser chose last (localStorage),
 * else the browser's own language. After sign-in the user's choice on the server wins.
 */
import type { Locale } from './types.js';

const KEY = 'vigil.locale';

/** The parts of the browser this file uses, typed here so Node's type check (tests) passes. */
interface Browser {
  localStorage?: { getItem(key: string): string | null; setItem(key: string, value: string): void };
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

/** zh, zh-CN, zh-Hans... read Chinese; everything else English. */
export function browserLocale(): Locale {
  const languages = browser.navigator?.languages ?? [];
  return languages.some((tag) => tag.toLowerCase().startsWith('zh')) ? 'zh-CN' : 'en';
}

export function initialLocale(): Locale {
  return storedLocale() ?? browserLocale();
}
