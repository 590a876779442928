/** The login limits on both engines (test/suites/stores/login-limits.ts). */
import { storeBackends } from '../../../suites/stores/backends.js';
import { loginLimitsSuite } from '../../../suites/stores/login-limits.js';

storeBackends('login limits', loginLimitsSuite);
