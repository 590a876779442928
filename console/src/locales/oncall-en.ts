/**
 * English texts of the on-call screens (people, teams, rotas, coverage), kept beside
 * en.ts so that the catalog holds them under `oncall`; oncall-zh-CN.ts has the same keys.
 */
export const oncallEn = {
  nav: 'On call',
  title: 'On call',
  adminOnly: 'Only an admin changes people, teams, rotas and coverage.',
  nobody: 'nobody',
  notSet: '–',
  remove: 'Delete',
  languages: { 'zh-CN': 'Chinese', en: 'English' } as Readonly<Record<string, string>>,

  now: {
    title: 'On call now',
    team: 'Team',
    engineer: 'On call',
    until: 'Until',
    next: 'Next',
    escalation: 'Lead / supervisor / manager',
    noChange: 'no change ahead',
    nextFrom: (name: string, when: string) => `${name} from ${when}`,
    noTeams: 'No team yet: add people, then a team with its rota.',
    site: 'Site',
    lookup: 'Who is on call for a site',
    ask: 'Ask',
    siteAnswer: (site: string, team: string) => `${site} is covered by ${team}.`,
    noCover: (site: string) =>
      `No team covers ${site}: add a coverage entry for the site, its customer, or a default team.`,
  },

  people: {
    edit: 'Edit',
    save: 'Save person',
    cancel: 'Cancel',
    title: 'People',
    id: 'Id (e.g. zhang-wei)',
    name: 'Name',
    phone: 'Mobile (11 digits)',
    email: 'Email',
    dingtalk: 'DingTalk user id',
    wecom: 'WeCom user id',
    feishu: 'Feishu open_id (ou_…)',
    language: 'Language',
    account: 'Console account',
    add: 'Add person',
    none: 'Nobody yet.',
    removeConfirm: (name: string) => `Delete ${name}? They can no longer be paged.`,
  },

  teams: {
    save: 'Save team',
    title: 'Teams',
    id: 'Id (e.g. east-china)',
    name: 'Name',
    timeZone: 'Time zone (IANA, e.g. Asia/Shanghai)',
    language: 'Language of its messages',
    lead: 'Team lead',
    supervisor: 'Supervisor',
    manager: 'Manager',
    channels: 'Channel ids (comma-separated)',
    add: 'Add team',
    open: 'Rota',
    none: 'No team yet.',
    removeConfirm: (name: string) =>
      `Delete the team ${name} with its rotas, overrides and coverage?`,
  },

  team: {
    turns: 'Who is on call, next 14 days',
    noTurns: 'Nobody on call in the next 14 days.',
    close: 'Close',
    timesIn: (zone: string) => `Hand-over times are local to ${zone}.`,
    rotations: 'Rotations',
    rotationRule:
      'The rotation that began last is in force; enter next month’s rota with its start date.',
    people: 'People in turn (ids, comma-separated)',
    handover: 'Hand-over',
    daily: 'daily',
    weekly: 'weekly',
    time: 'At (HH:MM)',
    weekday: 'On (weekly)',
    start: 'From',
    addRotation: 'Add rotation',
    noRotation: 'No rota: nobody is on call for this team unless an override says so.',
    rotationText: (people: string, when: string, start: string) =>
      `${people}: hand-over ${when}, from ${start}`,
    dailyAt: (time: string) => `daily at ${time}`,
    weeklyAt: (day: string, time: string) => `every ${day} at ${time}`,
    weekdays: ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'],
    overrides: 'Overrides (leave, swaps)',
    overrideRule: 'Where two overlap, the one added last wins.',
    person: 'Who takes over',
    replaces: 'Covers for',
    anyone: 'the whole span',
    from: 'From',
    to: 'To',
    reason: 'Reason',
    addOverride: 'Add override',
    noOverrides: 'No override now or ahead.',
    overrideText: (person: string, replaces: string | null, from: string, to: string) =>
      replaces === null
        ? `${person} on call ${from} – ${to}`
        : `${person} covers for ${replaces} ${from} – ${to}`,
  },

  coverage: {
    title: 'Coverage',
    rule: 'A site’s own entry beats its customer’s, which beats the default team.',
    scope: 'Covers',
    scopes: { site: 'the site', customer: 'the customer', default: 'every other site' } as Readonly<
      Record<string, string>
    >,
    key: 'Site id or customer',
    team: 'Team',
    set: 'Set',
    none: 'Nothing covered yet: no site has a team to page.',
  },
};
