/**
 * GET /api/devices/:id/outages: the device's outage timeline over a period (per channel,
 * clipped, with totals) from the outage history the device registry keeps
 * (broker/devices/outages.ts, broker/devices/timeline.ts). Any logged-in user may read it.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ApiError } from '../../shared/api/common.js';
import {
  DeviceOutages,
  DeviceOutagesParams,
  DeviceOutagesQuery,
  deviceApiRoutes,
} from '../../shared/api/outages.js';
import { VigilError } from '../../shared/errors.js';
import { onlyOwn } from './scope.js';
import { periodOf } from './period.js';
import { DOWN_CODES } from '../../shared/messages/device-state.js';
import type { DeviceRegistry } from '../devices/registry.js';
import { outageTimeline } from '../devices/timeline.js';

/** Thirteen months and a little: a quarter of last year is still comparable. */
const MAX_SPAN_DAYS = 400;

export const outageRoutes: FastifyPluginAsyncTypebox<{
  devices: DeviceRegistry;
  now?: () => Date;
}> = async (app, { devices, now = () => new Date() }) => {
  app.get(
    deviceApiRoutes.outages,
    {
      config: { scope: 'customer' },
      schema: {
        summary: "A device's outage timeline: reason spans per channel over a period",
        tags: ['devices'],
        params: DeviceOutagesParams,
        querystring: DeviceOutagesQuery,
        response: {
          200: DeviceOutages,
          400: ApiError,
          401: ApiError,
          404: ApiError,
          503: ApiError,
        },
      },
    },
    async (request) => {
      const { id } = request.params;
      const q = request.query;
      const { from, to } = periodOf(q, MAX_SPAN_DAYS);
      // A customer's: its own sites' devices only, so another's is "no device" (404).
      const matches = onlyOwn(
        request,
        devices.list(q.site === undefined ? {} : { siteId: q.site }),
        (d) => d.siteId,
      ).filter((d) => d.id === id);
      const device = matches[0];
      if (device === undefined) {
        throw new VigilError(
          'VIGIL_NOT_FOUND',
          `No device ${id}${q.site === undefined ? '' : ` at site ${q.site}`}: check the id in the device list.`,
        );
      }
      if (matches.length > 1) {
        throw new VigilError('VIGIL_BAD_REQUEST', `Several sites have a device ${id}.`, [
          `site: required, one of ${matches.map((d) => d.siteId).join(', ')}`,
        ]);
      }
      const history = devices.outages;
      if (history === undefined) {
        throw new VigilError(
          'VIGIL_NOT_FOUND',
          'This broker keeps no outage history (its device registry has no store).',
        );
      }
      const code = q.code ?? 'recording-stopped';
      const fromIso = from.toISOString();
      const toIso = to.toISOString();
      const [channels, spans, downSpans] = await Promise.all([
        history.channels(device.siteId, device.id, code),
        history.spans(device.siteId, device.id, [code], fromIso, toIso),
        DOWN_CODES.includes(code)
          ? []
          : history.spans(device.siteId, device.id, DOWN_CODES, fromIso, toIso),
      ]);
      return outageTimeline({
        siteId: device.siteId,
        deviceId: device.id,
        code,
        from,
        to,
        now: now(),
        channelCount: device.channels ?? null,
        ...(device.recordings !== undefined ? { recordings: device.recordings } : {}),
        retentionDays: history.retentionDays,
        channels,
        spans,
        downSpans: downSpans.filter((s) => s.channel === ''),
      });
    },
  );
};
