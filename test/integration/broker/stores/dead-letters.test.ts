/** The dead letters on both engines (test/suites/stores/dead-letters.ts). */
import { storeBackends } from '../../../suites/stores/backends.js';
import { deadLetterSuite } from '../../../suites/stores/dead-letters.js';

storeBackends('dead letters', deadLetterSuite);
