/**
 * The texts of the current language: `strings` is a live binding that setLanguage()
 * repoints, so every render reads the chosen language. The catalogs are in locales/.
 */
import type { Locale } from '../../shared/api/users.js';
import { en, type Strings } from './locales/en.js';
import { zhCN } from './locales/zh-CN.js';

export type { Strings };
export type { Locale };

export const catalogs: Readonly<Record<Locale, Strings>> = { en, 'zh-CN': zhCN };
export const locales: readonly Locale[] = ['en', 'zh-CN'];

export let strings: Strings = en;
/** The chosen language, for what shared/wording/ renders. */
export let language: Locale = 'en';

export function setLanguage(locale: Locale): void {
  strings = catalogs[locale];
  language = locale;
}

export function isLocale(value: unknown): value is Locale {
  return value === 'en' || value === 'zh-CN';
}
