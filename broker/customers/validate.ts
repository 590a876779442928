/**
 * The checks of a customer that a schema cannot say clearly: a time zone Intl knows (an
 * IANA Area/Location name), contacts' phones and emails the notifications can use. The
 * same checks as the on-call people's (broker/oncall/validate.ts: one home for each
 * rule); each failure is one line "field: what is wrong, what to send instead".
 */
import type { CustomerContact } from '../../shared/api/customers.js';
import { emailError, normalizePhone } from '../oncall/validate.js';

export { timeZoneError } from '../oncall/validate.js';

/** The contacts with phones made bare, or the error lines (paths contacts/N/field). */
export function checkContacts(
  contacts: readonly CustomerContact[],
): { ok: true; contacts: CustomerContact[] } | { ok: false; errors: string[] } {
  const errors: string[] = [];
  const clean = contacts.map((contact, index) => {
    const out: CustomerContact = { ...contact };
    if (contact.phone !== undefined && contact.phone !== '') {
      const phone = normalizePhone(contact.phone);
      if (phone.ok) out.phone = phone.phone;
      else errors.push(`contacts/${index}/${phone.error}`);
    }
    if (contact.email !== undefined && contact.email !== '') {
      const error = emailError(contact.email);
      if (error !== null) errors.push(`contacts/${index}/${error}`);
    }
    return out;
  });
  return errors.length === 0 ? { ok: true, contacts: clean } : { ok: false, errors };
}
