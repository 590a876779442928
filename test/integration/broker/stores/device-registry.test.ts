/** The device registry and its outage spans on both engines (test/suites/stores/device-registry.ts). */
import { storeBackends } from '../../../suites/stores/backends.js';
import { deviceRegistrySuite } from '../../../suites/stores/device-registry.js';

storeBackends('device registry', deviceRegistrySuite);
