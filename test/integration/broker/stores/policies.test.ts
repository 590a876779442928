/** The escalation policies on both engines (test/suites/stores/policies.ts). */
import { storeBackends } from '../../../suites/stores/backends.js';
import { policyStoreSuite } from '../../../suites/stores/policies.js';

storeBackends('escalation policies', policyStoreSuite);
