/** Issued inspection reports on both engines (test/suites/stores/issued-reports.ts). */
import { storeBackends } from '../../../suites/stores/backends.js';
import { issuedReportStoreSuite } from '../../../suites/stores/issued-reports.js';

storeBackends('issued reports', issuedReportStoreSuite);
