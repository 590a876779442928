/**
 * Every text the console shows, in one place. English is the only locale today; zh-CN
 * becomes a second object of the type `Strings` (src/locales/ later) and `strings` then
 * points at the chosen one. Texts that hold a number or a name are functions, because
 * word order differs between the languages ("in 9 min" / "9 分钟后").
 */
import type { DeviceKind, DeviceStatus } from './data/types.js';
import type { Priority, TicketStatus } from './data/types.js';

const en = {
  /** BCP 47 tag for Intl formatting and the document's lang attribute. */
  locale: 'en',
  appName: 'Vigil',
  loading: 'Loading…',

  login: {
    title: 'Sign in',
    intro: 'Vigil network operations console',
    username: 'Username',
    password: 'Password',
    submit: 'Sign in',
    busy: 'Signing in…',
    sessionEnded: 'Your session has ended. Sign in again.',
  },

  header: {
    logout: 'Log out',
    noSite: 'No site reporting yet',
    sites: (count: number) => `${count} sites`,
    signedInAs: (user: string) => `Signed in as ${user}`,
  },

  connection: {
    idle: 'offline',
    connecting: 'connecting…',
    live: 'live',
    reconnecting: 'reconnecting…',
    /** Tooltip of the badge. */
    hint: {
      idle: 'Not connected to the live stream.',
      connecting: 'Opening the live stream.',
      live: 'Changes appear as they happen.',
      reconnecting:
        'The live stream was interrupted; the console retries by itself and reloads the lists when it is back.',
    },
  },

  errors: {
    network:
      'Cannot reach the Vigil server. Check the network connection and that the broker is running, then try again.',
    badResponse:
      'The server sent an answer the console does not understand. Reload the page; if it persists, check that the console and the broker are the same version.',
    http: (status: number) =>
      `The server answered with HTTP ${status}. Try again; if it persists, check the broker log.`,
    loadFailed: (message: string) => `The lists could not be refreshed: ${message}`,
  },

  devices: {
    title: 'Devices',
    countsLabel: 'Devices per status',
    empty: 'No device has reported yet. Devices appear here when a site agent connects.',
    status: {
      up: 'Up',
      degraded: 'Degraded',
      down: 'Down',
      unknown: 'Unknown',
    } satisfies Record<DeviceStatus, string>,
    kind: { camera: 'Camera', nvr: 'NVR' } satisfies Record<DeviceKind, string>,
    lastSeen: (when: string) => `Last seen ${when}`,
    neverSeen: 'Never seen',
    noReasons: 'No problem reported',
  },

  tickets: {
    title: 'Open tickets',
    resolvedTitle: 'Resolved tickets',
    showResolved: 'Show resolved',
    hideResolved: 'Hide resolved',
    loadingResolved: 'Loading resolved tickets…',
    empty: 'No open ticket.',
    emptyResolved: 'No resolved ticket.',
    number: (id: number) => `#${id}`,
    device: (id: string) => `Device ${id}`,
    openedAt: (when: string) => `Opened ${when}`,
    resolvedAt: (when: string) => `Resolved ${when}`,
    timeline: 'Timeline',
    deadlinesLabel: 'Deadlines',
    priority: {
      emergency: 'Emergency',
      serious: 'Serious',
      general: 'General',
    } satisfies Record<Priority, string>,
    status: {
      open: 'Open',
      acknowledged: 'Acknowledged',
      dispatched: 'Dispatched',
      'on-site': 'On site',
      resolved: 'Resolved',
      closed: 'Closed',
    } satisfies Record<TicketStatus, string>,
    deadline: {
      respond: 'Respond by',
      onSite: 'On site by',
      resolve: 'Resolve by',
    },
  },

  countdown: {
    remaining: (duration: string) => `in ${duration}`,
    overdue: (duration: string) => `overdue ${duration}`,
    met: (early: string) => `met, ${early} early`,
    /** Accessible description of when a deadline was met. */
    metAt: (when: string) => `met at ${when}`,
    missed: (duration: string) => `missed by ${duration}`,
    none: 'not set',
    /** Accessible description of the deadline's absolute time. */
    due: (when: string) => `due ${when}`,
  },

  time: {
    justNow: 'just now',
    ago: (duration: string) => `${duration} ago`,
    /** Units of a duration and how they join: "1 h 5 min", "9 min 12 s". */
    day: (n: number) => `${n} d`,
    hour: (n: number) => `${n} h`,
    minute: (n: number) => `${n} min`,
    second: (n: number) => `${n} s`,
    join: ' ',
  },

  timeline: {
    label: 'Ticket history',
    system: 'Vigil',
    /** Labels of the entry kinds the broker writes; an unknown kind shows as sent. */
    kind: {
      detected: 'Detected',
      acknowledged: 'Acknowledged',
      dispatched: 'Dispatched',
      'on-site': 'On site',
      resolved: 'Resolved',
      closed: 'Closed',
      note: 'Note',
    } as Readonly<Record<string, string>>,
  },
};

export type Strings = typeof en;

/** The texts of the current locale. */
export const strings: Strings = en;
