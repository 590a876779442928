/**
 * Notification channels (issue 15, "Interface"): list, create, change, delete and
 * test-send, admin only (a channel holds secrets and decides who is woken at night).
 * Every write is audited, secrets left out of the audit's detail; the answers show
 * secrets masked only (broker/notify/channels/store.ts).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ApiError } from '../../shared/api/common.js';
import {
  Channel,
  ChannelDeliveryList,
  ChannelDeliveryQuery,
  ChannelList,
  ChannelParams,
  ChannelPatch,
  ChannelTest,
  ChannelTestResult,
  NewChannel,
  notifyChannelRoutes,
} from '../../shared/api/notify.js';
import type { AuditStore } from '../audit-trail.js';
import { SECRET_SETTINGS } from '../notify/channels/drivers.js';
import type { ChannelStore } from '../notify/channels/store.js';
import type { Outbox } from '../notify/outbox.js';
import { testMessage } from '../notify/channels/test-message.js';
import { requireRole } from './tickets.js';

/** The request body without its secrets, for the audit trail: which ones changed, not their values. */
function auditable(body: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(body)) {
    out[key] = (SECRET_SETTINGS as readonly string[]).includes(key) ? '(set)' : value;
  }
  return out;
}

export const notifyChannelRoutesPlugin: FastifyPluginAsyncTypebox<{
  channels: ChannelStore;
  audit?: AuditStore;
  /** The escalation's outbox: each channel's delivery log. */
  outbox?: Outbox;
}> = async (app, { channels, audit, outbox }) => {
  const errors = { 400: ApiError, 401: ApiError, 403: ApiError, 404: ApiError };

  app.get(
    notifyChannelRoutes.list,
    {
      config: { scope: 'staff' },
      schema: {
        summary: 'Every notification channel, secrets masked (admin)',
        tags: ['notify'],
        response: { 200: ChannelList, 401: ApiError, 403: ApiError },
      },
    },
    async (request) => {
      requireRole(request, 'admin', 'Reading notification channels');
      return channels.views();
    },
  );

  app.post(
    notifyChannelRoutes.list,
    {
      config: { scope: 'staff' },
      schema: {
        summary:
          'Adds a channel: DingTalk, WeCom, Feishu robot, SMS, email or signed webhook (admin)',
        tags: ['notify'],
        body: NewChannel,
        response: { 201: Channel, ...errors },
      },
    },
    async (request, reply) => {
      const user = requireRole(request, 'admin', 'Adding a notification channel');
      const channel = await channels.create(request.body);
      await audit?.add(
        user.username,
        'channel.create',
        `channel:${channel.id}`,
        auditable(request.body),
      );
      return reply.status(201).send(channel);
    },
  );

  app.patch(
    notifyChannelRoutes.one,
    {
      config: { scope: 'staff' },
      schema: {
        summary: 'Changes a channel; secrets left out or sent back masked keep their value (admin)',
        tags: ['notify'],
        params: ChannelParams,
        body: ChannelPatch,
        response: { 200: Channel, ...errors },
      },
    },
    async (request) => {
      const user = requireRole(request, 'admin', 'Changing a notification channel');
      const channel = await channels.update(request.params.id, request.body);
      await audit?.add(
        user.username,
        'channel.update',
        `channel:${channel.id}`,
        auditable(request.body),
      );
      return channel;
    },
  );

  app.delete(
    notifyChannelRoutes.one,
    {
      config: { scope: 'staff' },
      schema: {
        summary: 'Deletes a channel (admin)',
        tags: ['notify'],
        params: ChannelParams,
        response: { 200: Channel, ...errors },
      },
    },
    async (request) => {
      const user = requireRole(request, 'admin', 'Deleting a notification channel');
      const channel = await channels.remove(request.params.id);
      await audit?.add(user.username, 'channel.delete', `channel:${channel.id}`);
      return channel;
    },
  );

  app.get(
    notifyChannelRoutes.deliveries,
    {
      config: { scope: 'staff' },
      schema: {
        summary:
          "A channel's newest notifications and what became of each: delivered, failed with the service's code, merged into a digest, repeated after a crash (admin)",
        tags: ['notify'],
        params: ChannelParams,
        querystring: ChannelDeliveryQuery,
        response: { 200: ChannelDeliveryList, ...errors },
      },
    },
    async (request) => {
      requireRole(request, 'admin', "Reading a channel's delivery log");
      const { id } = request.params;
      await channels.one(id); // 404 for an unknown channel
      // The message's text stays out: it holds live acknowledge links.
      return ((await outbox?.list(id, request.query.limit ?? 50)) ?? []).map((row) => ({
        id: row.id,
        kind: row.message.kind,
        ticketIds: row.ticketIds,
        state: row.state,
        attempts: row.attempts,
        errorCode: row.errorCode,
        errorMessage: row.errorMessage,
        createdAt: row.createdAt,
        sentAt: row.sentAt,
        repeated: row.repeated,
        mergedInto: row.mergedInto,
      }));
    },
  );

  app.post(
    notifyChannelRoutes.test,
    {
      config: { scope: 'staff' },
      schema: {
        summary:
          "Sends a test message: 200 {delivered: true}, or 502 with the service's own code and message (admin)",
        tags: ['notify'],
        params: ChannelParams,
        body: ChannelTest,
        response: { 200: ChannelTestResult, 502: ChannelTestResult, ...errors },
      },
    },
    async (request, reply) => {
      const user = requireRole(request, 'admin', 'Testing a notification channel');
      const { id } = request.params;
      const { driver, name } = await channels.testDriver(id);
      const { language, ...to } = request.body ?? {};
      // Through the outbox's window: a test press counts towards the robot's limit.
      const test = testMessage(name, to, language);
      const result = outbox
        ? await outbox.sendOutside(id, driver, test)
        : await driver.send(test, new AbortController().signal);
      await audit?.add(user.username, 'channel.test', `channel:${id}`, result);
      if (result.delivered) return { delivered: true as const };
      const { code, message, retryable } = result;
      return reply.status(502).send({ delivered: false as const, code, message, retryable });
    },
  );
};
