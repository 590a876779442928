/**
 * Desktop notifications of new emergencies through the browser's Notification API
 * (https://notifications.spec.whatwg.org/), only after the operator opted in: permission
 * is asked from their click, never on load (browsers ignore or penalise a request
 * without a gesture). None while the console's tab is visible: the wall flashes then.
 */
import { notifyChoice } from './alarm.js';

/** Whether the operator gets notifications, or why not. */
export type NotifyState = 'on' | 'off' | 'denied' | 'unsupported';

/** The parts of the browser used here, typed so Node's type check (tests) passes. */
type Permission = 'default' | 'granted' | 'denied';
interface ShownNotification {
  onclick: (() => void) | null;
  close(): void;
}
interface NotificationApi {
  readonly permission: Permission;
  requestPermission(): Promise<Permission>;
  new (
    title: string,
    options?: { body?: string; tag?: string; lang?: string; requireInteraction?: boolean },
  ): ShownNotification;
}
interface Browser {
  Notification?: NotificationApi;
  document?: { visibilityState?: string };
  focus?: () => void;
}
const browser = globalThis as Browser;

function api(): NotificationApi | null {
  return browser.Notification ?? null;
}

export function notifyState(): NotifyState {
  const N = api();
  if (N === null) return 'unsupported';
  if (N.permission === 'denied') return 'denied';
  return notifyChoice.get() && N.permission === 'granted' ? 'on' : 'off';
}

/** Switches notifications on (asking permission if needed) or off; the operator's click. */
export async function toggleNotifications(): Promise<NotifyState> {
  const N = api();
  if (N === null) return 'unsupported';
  if (notifyState() === 'on') {
    notifyChoice.set(false);
    return 'off';
  }
  const permission = N.permission === 'granted' ? 'granted' : await N.requestPermission();
  notifyChoice.set(permission === 'granted');
  return notifyState();
}

export interface EmergencyNotice {
  ticketId: number;
  title: string;
  body: string;
  lang: string;
  /** Where a click takes the operator: the ticket's page. */
  onClick: () => void;
}

/** Shows one notification per emergency when opted in and the tab is not visible. */
export function notifyEmergency(notice: EmergencyNotice): void {
  const N = api();
  if (N === null || notifyState() !== 'on') return;
  if (browser.document?.visibilityState === 'visible') return;
  // `tag` per ticket: a second notice of the same ticket replaces the first.
  const notification = new N(notice.title, {
    body: notice.body,
    tag: `vigil-ticket-${notice.ticketId}`,
    lang: notice.lang,
    requireInteraction: true,
  });
  notification.onclick = () => {
    browser.focus?.();
    notice.onClick();
    notification.close();
  };
}
