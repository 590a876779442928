/**
 * English texts. Every text the console shows is here or in zh-CN.ts, which has the
 * same keys (a unit test checks). Texts that hold a number or a name are functions,
 * because word order differs between the languages ("in 9 min" / "9 分钟后").
 */
import type { DeviceKind, DeviceStatus, Priority, TicketStatus } from '../data/types.js';
import type { SiteState } from '../data/types.js';
import { oncallEn } from './oncall-en.js';
import { channelsEn } from './channels-en.js';
import { customersEn } from './customers-en.js';
import { alarmEn } from './alarm-en.js';
import { newTicketEn } from './new-ticket-en.js';
import { portalEn } from './portal-en.js';
import { zoneEn } from './zone-en.js';

export const en = {
  /** BCP 47 tag for Intl formatting and the document's lang attribute. */
  locale: 'en',
  /** The language's own name, for the switcher. */
  languageName: 'English',
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
    failed: 'Wrong username or password.',
    /** A login lock (VIGIL_AUTH_LOCKED): which address, until when, what to do. */
    lockedAccount: (address: string, until: string) =>
      `Too many wrong passwords for this username from your address (${address}). Signing in with it from here is blocked until ${until}. Wait until then, or ask an admin to lift the lock.`,
    lockedAddress: (address: string, until: string) =>
      `Too many wrong passwords from your address (${address}). Signing in from here is blocked for every username until ${until}. Wait until then, or ask an admin to lift the lock.`,
  },

  header: {
    logout: 'Log out',
    noSite: 'No site reporting yet',
    sites: (count: number) => `${count} sites`,
    signedInAs: (user: string) => `Signed in as ${user}`,
    language: 'Language',
    role: {
      viewer: 'viewer',
      operator: 'operator',
      admin: 'admin',
      customer: 'customer',
    } as Record<string, string>,
  },

  nav: {
    label: 'Screens',
    fleet: 'Fleet',
    tickets: 'Tickets',
    maintenance: 'Maintenance',
    inspection: 'Inspection',
    users: 'Users',
    wall: 'Wall mode',
    notFound: 'This page does not exist. Pick a screen above.',
    back: 'Back',
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
    banner:
      'Connection to the Vigil server lost. Retrying by itself; what you see may be out of date.',
  },

  errors: {
    network:
      'Cannot reach the Vigil server. Check the network connection and that the broker is running, then try again.',
    badResponse:
      'The server sent an answer the console does not understand. Reload the page; if it persists, check that the console and the broker are the same version.',
    http: (status: number) =>
      `The server answered with HTTP ${status}. Try again; if it persists, check the broker log.`,
    loadFailed: (message: string) => `The lists could not be refreshed: ${message}`,
    notAvailable: 'This server does not offer this yet (older broker).',
  },

  fleet: {
    title: 'Fleet',
    sitesTitle: 'Sites',
    noSites: 'No site has reported yet. Sites appear here when their agent connects.',
    allSites: 'All sites',
    siteState: {
      ok: 'OK',
      degraded: 'Degraded',
      down: 'Down',
      unreachable: 'Unreachable',
      maintenance: 'In maintenance',
    } satisfies Record<SiteState, string>,
    deviceCount: (n: number) => `${n} devices`,
    search: 'Search devices',
    searchPlaceholder: 'Name, id, model, serial…',
    statusFilter: 'Status',
    anyStatus: 'Any status',
    shown: (shown: number, total: number) => `${shown} of ${total} devices`,
    noMatch: 'No device matches the filter.',
    columns: {
      state: 'State',
      device: 'Device',
      reasons: 'Reasons',
      lastSeen: 'Last seen',
      response: 'Response',
    },
    responseMs: (ms: number) => `${ms.toFixed(0)} ms`,
    noValue: '–',
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

  device: {
    notFound: (id: string) => `No device "${id}" is known.`,
    identity: 'Identity and inventory',
    manufacturer: 'Manufacturer',
    model: 'Model',
    firmware: 'Firmware',
    serial: 'Serial number',
    hardware: 'Hardware id',
    address: 'Address',
    site: 'Site',
    agent: 'Gateway',
    since: 'State since',
    warranty: 'Warranty',
    warrantyEnds: (day: string) => `until ${day}`,
    warrantyOver: (day: string) => `ended ${day}`,
    warrantyUnknown: 'Not recorded',
    criticality: 'Criticality',
    checks: 'Current checks',
    charts: 'Metrics',
    period: 'Period',
    periods: {
      '1h': 'Last hour',
      '24h': 'Last 24 hours',
      '7d': 'Last 7 days',
      '30d': 'Last 30 days',
    } as Record<string, string>,
    fields: {
      responseMs: 'Response time (ms)',
      up: 'Up (1) / down (0)',
      clockOffsetS: 'Clock offset (s)',
      recordingsStopped: 'Channels not recording',
    } as Record<string, string>,
    noData: 'No readings in this period.',
    recording: {
      title: 'Recording',
      allRecording: 'Every channel is recording.',
      timeline: 'Recording gaps per channel in the period',
      noGaps: 'No recording gap in this period.',
      noChannels: 'No channel of this recorder has stopped recording in the kept history.',
      loading: 'Loading the recording history…',
      failed: 'The recording history could not be loaded.',
      ongoing: 'still stopped',
      wholeDevice: 'Whole recorder',
      channel: 'Channel',
      from: 'From',
      to: 'To',
      duration: 'Duration',
      total: 'Gap in the period',
      totalOf: (gap: string, share: string) => `${gap} (${share})`,
      stoppedGap: (channel: string, from: string, to: string, duration: string) =>
        `${channel}: recording stopped from ${from} to ${to} (${duration})`,
      downGap: (from: string, to: string, duration: string) =>
        `Recorder unreachable from ${from} to ${to} (${duration}): recording not verified`,
      down: 'Recorder down',
      downNote:
        'While the recorder is down its recording cannot be verified: that time counts in every channel’s gap.',
      channelsWithGap: (withGap: number, total: number) =>
        `${withGap} of ${total} channels had a recording gap in the period.`,
      otherChannels: (others: number, total: number) =>
        `${others} of ${total} channels have not stopped recording in the kept history.`,
      retention: (days: number) => `The broker keeps ${days} days of this history.`,
    },
    outages: 'Outages',
    noOutages: 'No outage in the recorded tickets.',
    tickets: 'Tickets',
    noTickets: 'No ticket for this device.',
    pollNow: 'Poll now',
    rediscover: 'Rediscover',
    commandSent: 'Done: the agent ran the command.',
    commandFailed: 'The agent could not run the command.',
    certificateChanged:
      'This device presents a different HTTPS certificate than the one pinned, and Vigil no longer talks to it.',
    pinnedCertificate: 'Pinned (SHA-256)',
    presentedCertificate: 'Presented (SHA-256)',
    trustCertificate: 'Accept the new certificate',
    trustConfirm: (presented: string) =>
      `Accept the certificate ${presented}? Only if the device was replaced or its certificate renewed: compare the fingerprint with the device first. The acceptance is recorded in the audit trail.`,
  },

  tickets: {
    title: 'Open tickets',
    deskTitle: 'Ticket desk',
    resolvedTitle: 'Resolved tickets',
    showResolved: 'Show resolved',
    hideResolved: 'Hide resolved',
    loadingResolved: 'Loading resolved tickets…',
    empty: 'No open ticket.',
    emptyResolved: 'No resolved ticket.',
    number: (id: number) => `#${id}`,
    device: (id: string) => `Device ${id}`,
    site: (id: string) => `Site ${id}`,
    openedAt: (when: string) => `Opened ${when}`,
    resolvedAt: (when: string) => `Resolved ${when}`,
    timeline: 'Timeline',
    deadlinesLabel: 'Deadlines',
    filterPriority: 'Priority',
    filterSite: 'Site',
    filterStatus: 'Step',
    any: 'All',
    open: 'Open',
    engineer: 'Engineer',
    cause: 'Cause',
    fix: 'Fix',
    confirmation: "Customer's confirmation",
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
      /** The spare-part clocks (docs/PARTS.md). */
      partReplaced: 'Part replaced by',
      partShipped: 'Part shipped by',
    },
  },

  ticket: {
    notFound: (id: number) => `Ticket #${id} does not exist.`,
    actions: 'Actions',
    acknowledge: 'Acknowledge',
    dispatch: 'Dispatch',
    onSite: 'Engineer on site',
    note: 'Add note',
    resolve: 'Resolve',
    close: 'Close',
    engineerLabel: 'Engineer to send',
    noteLabel: 'Note',
    causeLabel: 'Cause',
    fixLabel: 'Fix',
    confirmationLabel: "Customer's confirmation (name, how)",
    closeConfirm: 'Close this ticket? It can no longer be worked on.',
    done: 'Saved.',
    viewerOnly: 'You can read tickets; acting on them needs the operator role.',
    report: 'Incident report',
    print: 'Print',
    reportTitle: (id: number) => `Incident report #${id}`,
    detectedAt: 'Detected',
    resolvedAt: 'Resolved',
    closedAt: 'Closed',
    duration: 'Duration',
    slaMet: 'All deadlines met',
    slaMissed: 'A deadline was missed',
    steps: 'Steps',
    covers: 'Also covers',
    occurrences: (n: number) => `Happened ${n} times`,
    signature: 'Signature and date',
  },

  countdown: {
    remaining: (duration: string) => `in ${duration}`,
    overdue: (duration: string) => `overdue ${duration}`,
    met: (early: string) => `met, ${early} early`,
    /** Accessible description of when a deadline was met. */
    metAt: (when: string) => `met at ${when}`,
    missed: (duration: string) => `missed by ${duration}`,
    paused: 'paused (maintenance)',
    none: 'not set',
    /** Accessible description of the deadline's absolute time. */
    due: (when: string) => `due ${when}`,
  },

  maintenance: {
    title: 'Maintenance windows',
    none: 'No current or planned maintenance window.',
    site: 'Site',
    device: 'Device (empty: whole site)',
    wholeSite: 'Whole site',
    reason: 'Reason',
    startsAt: 'Starts',
    endsAt: 'Ends',
    durationMin: 'Duration (minutes)',
    plan: 'Plan window',
    startNow: 'Start now',
    end: 'End now',
    state: { planned: 'Planned', active: 'Active', over: 'Over' } as Record<string, string>,
    createdBy: (user: string) => `by ${user}`,
    showAll: 'Show past windows',
  },

  inspection: {
    title: 'Inspection report',
    site: 'Site',
    period: 'Period',
    month: 'Month',
    quarter: 'Quarter',
    show: 'Show report',
    print: 'Print',
    csv: 'Export CSV',
    notReady: 'The inspection report is not available from this server yet.',
    pick: 'Pick a site and a period.',
    availability: 'Availability',
    tickets: 'Tickets',
    suggestions: 'Suggestions',
    devices: 'Devices',
    confirmation: "Customer's confirmation",
    confirmationHint: 'Name, signature and date of the customer representative',
    trends: 'Weekly trends',
    trend: {
      responseMs: 'Response time (ms)',
      clockOffsetS: 'Clock drift, largest (s)',
      storageUsedPct: 'Storage used (%)',
      retentionDays: 'Retention (days)',
      recordingPct: 'Recording continuity (%)',
    } as Record<string, string>,
    noReadings: 'No readings in this period.',
    week: 'Week of',
    inventoryChanges: 'Inventory changes',
    change: { replaced: 'Replaced', firmware: 'Firmware' } as Record<string, string>,
    warrantyEndingSoon: 'Warranty ending within 90 days',
    none: 'None',
  },

  users: {
    title: 'Users',
    username: 'Username',
    role: 'Role',
    password: 'Password (at least 8 characters)',
    newPasswordHint: 'Leave empty to keep the password',
    save: 'Save user',
    remove: 'Delete',
    removeConfirm: (user: string) => `Delete the user ${user}? Their sessions end.`,
    lastLogin: 'Last login',
    never: 'never',
    adminOnly: 'Only an admin manages users.',
    /** Login locks (docs/PORTAL-SECURITY.md). */
    locks: 'Login locks',
    locksIntro:
      'Too many wrong passwords from one address lock that username, or every username, from that address only. A lock ends by itself; lift it when the person is known.',
    noLocks: 'No login is locked.',
    lockWho: 'Username',
    anyName: 'every username',
    unknownName: 'a username no user has',
    address: 'From address',
    until: 'Locked until',
    failures: 'Wrong passwords',
    refused: 'Refused while locked',
    lift: 'Lift',
    liftConfirm: (address: string) => `Lift this lock? Logins from ${address} are taken again.`,
  },

  /** People, teams, rotas and coverage (./oncall-*.ts). */
  oncall: oncallEn,

  /** Notification channels (./channels-*.ts). */
  channels: channelsEn,

  /** The desk's "new ticket" form and a manual ticket's reporter (./new-ticket-*.ts). */
  newTicket: newTicketEn,

  /** Customers and their contracts (./customers-*.ts). */
  customers: customersEn,

  /** The customer portal: a customer account's navigation and report form (./portal-*.ts). */
  portal: portalEn,

  /** The header's time-zone picker (./zone-*.ts). */
  zone: zoneEn,

  wall: {
    title: 'NOC wall',
    openTickets: 'Open tickets',
    devicesDown: 'Devices down',
    allClear: 'All systems normal',
    exit: 'Leave wall mode',
    /** The alarm for emergencies nobody acknowledged (./alarm-*.ts). */
    alarm: alarmEn,
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
      reported: 'Reported',
      acknowledged: 'Acknowledged',
      dispatched: 'Dispatched',
      'on-site': 'On site',
      resolved: 'Resolved',
      closed: 'Closed',
      note: 'Note',
      reopened: 'Reopened',
      relapse: 'Happened again',
      covered: 'Covered',
      uncovered: 'No longer covered',
      'sla-warning': 'Deadline near',
      'sla-breach': 'Deadline missed',
      paused: 'Clocks paused',
      resumed: 'Clocks resumed',
      priority: 'Priority changed',
      notified: 'Notified',
      'notify-failed': 'Notification failed',
      // Spare parts and warranty (docs/PARTS.md).
      replaced: 'Part replaced',
      warranty: 'Warranty restarted',
      'part-needed': 'Part needed',
      'part-shipped': 'Part shipped',
    } as Readonly<Record<string, string>>,
  },
};

export type Strings = typeof en;
