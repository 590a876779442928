/**
 * Every health check, in the order a poll runs them (STYLE habit 2: one explicit list; a
 * test fails when a file of this folder is missing here). The order matters: `reachable`
 * first, because it is unauthenticated and aligns the clock used for the credentials of
 * the checks after it.
 */
import { identity } from './identity.js';
import { media } from './media.js';
import { reachable } from './reachable.js';
import type { Check } from './types.js';

export const checks: readonly Check[] = [reachable, identity, media];
