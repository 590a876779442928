/** The detector's state on both engines (test/suites/stores/detect-state.ts). */
import { storeBackends } from '../../../suites/stores/backends.js';
import { detectStateSuite } from '../../../suites/stores/detect-state.js';

storeBackends('detector state', detectStateSuite);
