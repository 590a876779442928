/** A camera of site plant-7 that the agent reports down: what opens the tests' emergencies. */
import { deviceExample, type Device } from '../../../../shared/api/devices.js';

export const camera = (id: string): Device => ({
  ...deviceExample,
  id,
  name: `Camera ${id}`,
  siteId: 'plant-7',
  status: 'down',
  reasons: [{ code: 'unreachable', message: 'connect ECONNREFUSED 192.0.2.11:80' }],
});
