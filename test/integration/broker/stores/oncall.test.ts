/** The on-call store on both engines (test/suites/stores/oncall.ts). */
import { storeBackends } from '../../../suites/stores/backends.js';
import { onCallStoreSuite } from '../../../suites/stores/oncall.js';

storeBackends('on call', onCallStoreSuite);
