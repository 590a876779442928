/**
 * The SMS template variables of a ticket's notification (broker/notify/compose.ts): no
 * link in any of them, since Alibaba Cloud SMS accepts a link in a notification template
 * only as fixed text, and cuts every variable at 35 characters (the acknowledge link is
 * about 150); the ticket's number instead, as a digest's first one.
 */
import { expect, it } from 'vitest';
import { ticketExample, type Ticket } from '../../../../shared/api/tickets.js';
import { digestMessage, ticketMessage } from '../../../../broker/notify/compose.js';

const BASE = 'https://vigil.example.com';

const page = (id: number) => {
  const ticket: Ticket = { ...ticketExample, id, status: 'open', respondedAt: null };
  return ticketMessage({
    ticket,
    stage: 'opened',
    language: 'zh-CN',
    timeZone: 'Asia/Shanghai',
    customer: 'ACME',
    siteName: 'Demo',
    to: [],
    ticketUrl: `${BASE}/#/tickets/${id}`,
    ackUrl: `${BASE}/ack/eyJ0Ijo0MiwicCI6bnVsbCwiZSI6MTc2NTA0NDQwMDAwMCwibiI6ImFiYyJ9.c2lnbmF0dXJl`,
  });
};

it('puts no link in an SMS template variable, and the ticket number instead', () => {
  const sms = page(42).sms!;
  for (const value of Object.values(sms)) {
    expect(value).not.toMatch(/https?:|\/ack\/|vigil\.example\.com/);
    expect([...value].length).toBeLessThanOrEqual(35);
  }
  expect(sms).toMatchObject({ ticket: '42', count: '1', site: 'demo-site', device: 'cam-01' });
  // The robots' markdown still carries the acknowledge link.
  expect(page(42).markdown).toContain(`${BASE}/ack/`);
});

it("keeps the first ticket's number in a digest's SMS variables, with the count", () => {
  const sms = digestMessage([page(7), page(8), page(9)]).sms!;
  expect(sms).toMatchObject({ ticket: '7', count: '3' });
  expect(Object.values(sms).join(' ')).not.toMatch(/https?:/);
});
