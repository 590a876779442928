/**
 * English texts of the customers screen, kept beside en.ts so that the catalog holds them
 * under `customers`; customers-zh-CN.ts has the same keys.
 */
export const customersEn = {
  nav: 'Customers',
  title: 'Customers and contracts',
  intro:
    'Each site belongs to a customer: its tickets run on the customer’s deadlines, its reports are months in the customer’s time zone.',
  empty: 'No customer yet. Add one, then give its sites to it (PUT /api/sites/:site customerId).',
  id: 'Id',
  name: 'Name',
  timeZone: 'Time zone',
  timeZoneHint: 'An IANA zone such as Asia/Shanghai (not CST)',
  locale: 'Documents in',
  locales: { 'zh-CN': '简体中文', en: 'English' } as Readonly<Record<string, string>>,
  sites: 'Sites',
  noSites: 'none',
  deadlines: 'Deadlines (min)',
  priorities: {
    emergency: 'Emergency',
    serious: 'Serious',
    general: 'General',
  } as Readonly<Record<string, string>>,
  respond: 'Respond',
  onSite: 'On site',
  resolve: 'Resolve',
  none: '–',
  noneHint: 'Leave empty where the contract sets no deadline',
  template: 'the broker’s template',
  own: 'its own contract',
  warranty: (years: number) => `Warranty ${years} years`,
  spareParts: (stocked: number, unstocked: number) =>
    `Spare parts: stocked ${stocked} h, unstocked shipped ${unstocked} h`,
  figures: 'Figures of',
  availability: 'Availability',
  compliance: 'Deadlines met',
  figuresValue: (availability: string, compliance: string, met: number, breached: number) =>
    `${availability} available · ${compliance} of deadlines met (${met} met, ${breached} missed)`,
  noFigure: '–',
  addSite: 'Add site',
  pickSite: 'Site',
  add: 'Add customer',
  edit: 'Edit',
  save: 'Save',
  cancel: 'Cancel',
  saved: (name: string) => `${name} saved.`,
  adminOnly: 'Only an admin adds and changes customers.',
  /** The warranty expiry list (GET /api/customers/:id/warranty, docs/PARTS.md). */
  expiry: {
    title: (days: number) => `Leaving warranty within ${days} days`,
    none: 'No device leaves warranty in that time.',
    site: 'Site',
    device: 'Device',
    serial: 'Serial number',
    start: 'Warranty from',
    end: 'Warranty until',
    left: (days: number) => `${days} d left`,
  },
  /** Issued inspection reports (docs/CUSTOMERS.md, Issued reports). */
  issued: {
    title: 'Issued inspection reports',
    intro:
      'An issued report is kept exactly as it was issued, with its PDF; issuing again makes a new version and the old one stays. Both sides keep the results, as the contract says.',
    none: 'No report issued yet.',
    site: 'Site',
    period: 'Period',
    version: 'Version',
    issuedAt: 'Issued',
    signOff: 'Sign-off',
    notSigned: 'not signed',
    signedBy: (name: string, day: string, remarks: string) =>
      `${name}, ${day}${remarks ? `: ${remarks}` : ''}`,
    pdf: 'PDF',
    page: 'Page',
    issue: 'Issue report',
    issuing: 'Printing the report…',
    issuedNotice: (site: string, period: string, version: number) =>
      `${site} ${period} issued as version ${version}.`,
    record: 'Record sign-off',
    name: 'Signed by',
    signedOn: 'Signed on',
    remarks: 'Remarks',
    save: 'Save sign-off',
    cancel: 'Cancel',
    staffOnly: 'An operator or admin issues reports and records sign-offs.',
    signHere: 'Sign a report issued to you here: who signed, the day, and your remarks.',
  },
};
