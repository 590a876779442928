/**
 * English texts of the customer portal (issue 16 part 5): what a customer account's
 * console shows instead of the NOC's navigation; portal-zh-CN.ts has the same keys.
 */
export const portalEn = {
  /** The header's label for a customer account, with its customer's id. */
  label: (customer: string) => `Customer portal · ${customer}`,
  nav: {
    sites: 'My sites',
    tickets: 'My tickets',
    /** The customers screen: the issued reports to sign, the month's figures, warranty. */
    reports: 'Reports',
    /** The live inspection report of a site and period. */
    inspection: 'Inspection',
  },
  /** A ticket's page in the portal, where the staff's step buttons would be. */
  ticketFollow:
    'The maintenance team works this ticket; every step they take shows here as it happens.',
  /** The users screen: which customer a `customer` account belongs to. */
  accountCustomer: 'Customer (customer accounts only)',
  /** The users screen's choice for a staff account: no customer. */
  noCustomer: 'None (staff)',
  /** The button on an issued report that opens the customer's sign-off form. */
  signOff: 'Sign off',
  /** The ticket desk's report form for a customer: no caller, the customer itself. */
  reportOpen: 'Report a fault',
  reportHint:
    'Tell us what you see that the checks cannot: a blurred or misaimed picture, a damaged housing. The maintenance team is notified at once.',
  reportDescription: 'Where, since when, what you see',
};
