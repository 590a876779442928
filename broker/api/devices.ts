/** GET /api/devices: the latest state of every device, from the device registry. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ApiError } from '../../shared/api/common.js';
import { DeviceList } from '../../shared/api/devices.js';
import { apiRoutes } from '../../shared/api/routes.js';
import type { DeviceRegistry } from '../devices/registry.js';
import { onlyOwn } from './scope.js';

export const deviceRoutes: FastifyPluginAsyncTypebox<{ devices: DeviceRegistry }> = async (
  app,
  { devices },
) => {
  app.get(
    apiRoutes.devices,
    {
      config: { scope: 'customer' },
      schema: {
        summary: 'Every device with its latest state',
        tags: ['devices'],
        response: { 200: DeviceList, 401: ApiError },
      },
    },
    async (request) => onlyOwn(request, devices.list(), (d) => d.siteId),
  );
};
