/** The escalation engine's schedule and digests on both engines (test/suites/stores/escalation.ts). */
import { storeBackends } from '../../../suites/stores/backends.js';
import { escalationSuite } from '../../../suites/stores/escalation.js';

storeBackends('escalation', escalationSuite);
