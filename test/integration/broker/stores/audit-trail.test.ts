/** The API's audit trail on both engines (test/suites/stores/audit-trail.ts). */
import { storeBackends } from '../../../suites/stores/backends.js';
import { auditTrailSuite } from '../../../suites/stores/audit-trail.js';

storeBackends('audit trail', auditTrailSuite);
