/** On call (issue 15 part 1): people, teams, rotas, overrides, coverage; see docs/ONCALL.md. */
export { OnCallStore, customerKey, type OnCallStoreOptions } from './store.js';
export type { Language, OnCallDirectory, OnCallNow, Person, Team } from './types.js';
export { onCallAt, personAt, shiftAt, isTimeZone } from './rota.js';
export { normalizePhone } from './validate.js';
