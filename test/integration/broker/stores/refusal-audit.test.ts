/** The MQTT refusal audit on both engines (test/suites/stores/refusal-audit.ts). */
import { storeBackends } from '../../../suites/stores/backends.js';
import { refusalAuditSuite } from '../../../suites/stores/refusal-audit.js';

storeBackends('MQTT refusal audit', refusalAuditSuite);
