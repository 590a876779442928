/** The customers and their contracts on both engines (test/suites/stores/customers.ts). */
import { storeBackends } from '../../../suites/stores/backends.js';
import { customerStoreSuite } from '../../../suites/stores/customers.js';

storeBackends('customers', customerStoreSuite);
