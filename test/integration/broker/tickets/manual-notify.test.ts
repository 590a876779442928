/**
 * A manual ticket pages like a detected one: the whole broker (broker/app.ts) over real
 * HTTP, a default DingTalk channel (the robot stand-in of test/standins/dingtalk.ts
 * checks signature and format as DingTalk documents them), and an emergency a person
 * reports through POST /api/tickets. The escalation engine (broker/notify/escalation.ts)
 * starts on its 'reported' entry; the delivery is written to the ticket's timeline.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningBroker } from '../../../../broker/app.js';
import { sitePath } from '../../../../shared/api/sites.js';
import type { Ticket } from '../../../../shared/api/tickets.js';
import { loginToken, startTestBroker } from '../../../helpers/broker.js';
import { eventually } from '../../../helpers/eventually.js';
import { DingTalkStandin } from '../../../standins/dingtalk.js';

describe('a manual ticket through the notifications', () => {
  let robot: DingTalkStandin;
  let broker: RunningBroker;
  let admin: string;

  const call = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${broker.httpUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${admin}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    expect(response.status, `${method} ${path}: ${text}`).toBeLessThan(300);
    return JSON.parse(text) as unknown;
  };

  beforeAll(async () => {
    robot = await new DingTalkStandin('robot-token-0002', 'SEC0123456789abcdef02').start();
    broker = await startTestBroker({
      settings: { notify: { publicUrl: 'https://vigil.example.com' } },
    });
    admin = await loginToken(broker);
    // No team covers the site: emergencies go to the default channel.
    await call('POST', '/api/notify/channels', {
      name: 'NOC DingTalk group',
      type: 'dingtalk',
      url: robot.url,
      secret: robot.secret,
      default: true,
    });
    await call('PUT', sitePath('plant-7'), { name: 'Plant 7' });
  });
  afterAll(async () => {
    await broker?.stop();
    await robot?.stop();
  });

  it('pages an emergency a person reports, and says so on its timeline', async () => {
    const ticket = (await call('POST', '/api/tickets', {
      siteId: 'plant-7',
      title: 'Every monitor in the guard room is black',
      description: 'The guard called: the video wall went dark at 02:10, the cameras may be fine.',
      priority: 'emergency',
    })) as Ticket;
    expect(ticket).toMatchObject({ source: 'manual', reportedBy: 'admin', priority: 'emergency' });

    const page = await eventually('the default channel is paged', () => robot.messages[0]);
    expect(page.text).toContain(`#${ticket.id}`);
    expect(page.text).toContain('Every monitor in the guard room is black');
    expect(page.text).toContain(`https://vigil.example.com/#/tickets/${ticket.id}`);

    const paged = await eventually('the delivery is on the timeline', async () => {
      const now = (await call('GET', `/api/tickets/${ticket.id}`)) as Ticket;
      return now.timeline.find((e) => e.kind === 'notified');
    });
    expect(paged.message.code).toBe('notify.sent');
    expect(robot.messages).toHaveLength(1);
  });
});
