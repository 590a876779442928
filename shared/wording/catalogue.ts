/**
 * The shape every language's catalogue has: the labels the messages need and one
 * function per message code (./messages.ts). A catalogue that misses a code does not
 * compile.
 */
import type { Message, MessageCode, MessageParams } from './messages.js';

export interface Labels {
  /** camera, NVR */
  kind: Record<'camera' | 'nvr', string>;
  /** The agent's reason codes (shared/messages/device-state.ts ReasonCode), as a list shows them. */
  reasons: Readonly<Record<string, string>>;
  /** The contract's deadlines: respond, on-site, resolve. */
  deadline: Readonly<Record<string, string>>;
  /**
   * Who saw a reason when it is not the device itself (Reason.witness): the NVR of a camera
   * behind it. One home for the words, for tickets and the console's device page alike.
   */
  seenBy: (device: string) => string;
}

/** What a message's function gets besides its parameters. */
export interface Speaker {
  labels: Labels;
  /** Renders a nested message (a reopened ticket quotes what was detected). */
  say(message: Message): string;
  /** A reason code in words; the code itself when the catalogue has none. */
  reason(code: string): string;
}

export type Catalogue = {
  labels: Labels;
  messages: { [C in MessageCode]: (params: MessageParams[C], speaker: Speaker) => string };
};
