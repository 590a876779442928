/** The acknowledge links on both engines (test/suites/stores/ack-link.ts). */
import { ackLinkSuite } from '../../../suites/stores/ack-link.js';
import { storeBackends } from '../../../suites/stores/backends.js';

storeBackends('acknowledge links', ackLinkSuite);
