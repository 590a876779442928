/** The notification channels on both engines (test/suites/stores/channels.ts). */
import { storeBackends } from '../../../suites/stores/backends.js';
import { channelStoreSuite } from '../../../suites/stores/channels.js';

storeBackends('notification channels', channelStoreSuite);
