/** The console users and their sessions on both engines (test/suites/stores/users.ts). */
import { storeBackends } from '../../../suites/stores/backends.js';
import { usersSuite } from '../../../suites/stores/users.js';

storeBackends('users and sessions', usersSuite);
