/** The maintenance windows on both engines (test/suites/stores/maintenance.ts). */
import { storeBackends } from '../../../suites/stores/backends.js';
import { maintenanceStoreSuite } from '../../../suites/stores/maintenance.js';

storeBackends('maintenance windows', maintenanceStoreSuite);
