/** The notification outbox on both engines (test/suites/stores/outbox.ts, outbox-lanes.ts). */
import { storeBackends } from '../../../suites/stores/backends.js';
import { outboxLanesSuite } from '../../../suites/stores/outbox-lanes.js';
import { outboxSuite } from '../../../suites/stores/outbox.js';

storeBackends('notification outbox', (backend) => {
  outboxSuite(backend);
  outboxLanesSuite(backend);
});
