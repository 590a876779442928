/** The site records on both engines (test/suites/stores/sites.ts). */
import { storeBackends } from '../../../suites/stores/backends.js';
import { siteStoreSuite } from '../../../suites/stores/sites.js';

storeBackends('site records', siteStoreSuite);
