/** The inspection report's status history on both engines (test/suites/stores/history.ts). */
import { storeBackends } from '../../../suites/stores/backends.js';
import { historySuite } from '../../../suites/stores/history.js';

storeBackends('status history', historySuite);
