/** The ticket desk's store on both engines (test/suites/stores/tickets.ts). */
import { storeBackends } from '../../../suites/stores/backends.js';
import { ticketStoreSuite } from '../../../suites/stores/tickets.js';

storeBackends('ticket desk', ticketStoreSuite);
