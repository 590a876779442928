/** The agents' accounts on both engines (test/suites/stores/agent-store.ts). */
import { storeBackends } from '../../../suites/stores/backends.js';
import { agentStoreSuite } from '../../../suites/stores/agent-store.js';

storeBackends('agent accounts', agentStoreSuite);
