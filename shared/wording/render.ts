/**
 * The one place where Vigil's messages become words: `say(message, locale)` for the
 * broker (the API's English `title` and `text`, incident reports, webhooks) and the
 * console (its language) alike. A message of a code this build does not know (a newer
 * broker, an older console) is shown by its code and parameters rather than lost.
 */
import type { Catalogue, Speaker } from './catalogue.js';
import { en } from './en.js';
import type { Message, MessageCode } from './messages.js';
import { zhCN } from './zh-CN.js';

export type WordingLocale = 'en' | 'zh-CN';

export const catalogues: Readonly<Record<WordingLocale, Catalogue>> = { en, 'zh-CN': zhCN };

/** What a catalogue's message functions speak with: its labels, and itself for nested messages. */
function speakerOf(catalogue: Catalogue): Speaker {
  const speaker: Speaker = {
    labels: catalogue.labels,
    say: (message) => {
      const render = catalogue.messages[message.code as MessageCode] as
        ((params: unknown, speaker: Speaker) => string) | undefined;
      if (render === undefined) return `${message.code} ${JSON.stringify(message.params)}`;
      return render(message.params, speaker);
    },
    reason: (code) => catalogue.labels.reasons[code] ?? code,
  };
  return speaker;
}

const speakers: Readonly<Record<WordingLocale, Speaker>> = {
  en: speakerOf(en),
  'zh-CN': speakerOf(zhCN),
};

/** The message in words of `locale` (English by default). */
export function say(message: Message, locale: WordingLocale = 'en'): string {
  return speakers[locale].say(message);
}

/** Who saw a reason (Reason.witness, an NVR's device id) in words of `locale`. */
export function seenBy(device: string, locale: WordingLocale = 'en'): string {
  return catalogues[locale].labels.seenBy(device);
}

/** A reason code of the agent (unreachable, clock-drift ...) in words of `locale`. */
export function reasonLabel(code: string, locale: WordingLocale = 'en'): string {
  return speakers[locale].reason(code);
}
