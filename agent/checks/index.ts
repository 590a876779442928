/**
 * Every health check, in the order a poll runs them (STYLE habit 2: one explicit list; a
 * test fails when a file of this folder is missing here). The order matters: `reachable`
 * first, because it is unauthenticated and aligns the clock used for the credentials of
 * the checks after it; `identity` proves the credentials; `media` finds the channels the
 * stream and picture checks look at. The gateway itself is sampled by ../gateway.ts.
 * Then the vendor drivers' checks (../drivers/index.ts, each driver's in its own order):
 * ../poll.ts runs those of the device's driver only, after every ONVIF check.
 */
import { driverChecks } from '../drivers/index.js';
import { events } from './events.js';
import { identity } from './identity.js';
import { media } from './media.js';
import { picture } from './picture.js';
import { reachable } from './reachable.js';
import { recording } from './recording.js';
import { retention } from './retention.js';
import { storage } from './storage.js';
import { stream } from './stream.js';
import type { Check } from './types.js';

export const checks: readonly Check[] = [
  reachable,
  identity,
  media,
  stream,
  picture,
  recording,
  retention,
  storage,
  events,
  ...driverChecks,
];
