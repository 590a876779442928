/**
 * English texts of the ticket desk's "new ticket" form (a fault a person reports, POST
 * /api/tickets) and of a manual ticket's "reported by" line, kept beside en.ts so that
 * the catalog holds them under `newTicket`; new-ticket-zh-CN.ts has the same keys.
 */
export const newTicketEn = {
  open: 'New ticket',
  heading: 'Report a fault no check can see',
  hint: 'For what a caller reports: a blurred or misaimed picture, a damaged housing. Vigil opens failures it detects by itself.',
  site: 'Site',
  chooseSite: 'Choose a site',
  device: 'Device',
  wholeSite: 'Whole site (no device)',
  title: 'What is wrong (one line)',
  titlePlaceholder: 'The picture at the gate is blurred',
  description: 'What the caller said: where, since when, what they see',
  priority: 'Priority',
  /** The default: the contract's rule for manual tickets, decided by the broker. */
  byContract: 'By the contract (general unless the device is critical)',
  submit: 'Open the ticket',
  cancel: 'Cancel',
  /** After a ticket opened: its number, a link follows. */
  opened: (id: number) => `Ticket #${id} opened.`,
  /** The ticket page: who opened a manual ticket and how it came in. */
  reportedBy: 'Reported by',
  /** When a manual ticket was opened (a detected one says "Detected"). */
  reportedAt: 'Reported',
  via: { phone: 'by phone', portal: 'through the customer portal' } as Readonly<
    Record<'phone' | 'portal', string>
  >,
  /** A manual ticket's line on the desk's list: who reported it. */
  listReporter: (by: string) => `Reported by ${by}`,
  /** Who and how, as the ticket page shows it: "olga, by phone". */
  reporter: (by: string, via: string | null) => (via === null ? by : `${by}, ${via}`),
  source: 'Source',
  sources: { detected: 'Detected by Vigil', manual: 'Reported by a person' } as Readonly<
    Record<'detected' | 'manual', string>
  >,
  descriptionLabel: 'Description',
};
