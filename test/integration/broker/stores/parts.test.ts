/** The spare parts on both engines (test/suites/stores/parts.ts). */
import { storeBackends } from '../../../suites/stores/backends.js';
import { partStoreSuite } from '../../../suites/stores/parts.js';

storeBackends('spare parts', partStoreSuite);
