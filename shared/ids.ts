import { Type } from 'typebox';

/**
 * Identifiers of sites, agents and devices become MQTT topic levels and InfluxDB tag
 * values, so they may not contain the topic separators or wildcards of MQTT 3.1.1
 * section 4.7 (`/`, `+`, `#`) nor start with `$` ([MQTT-4.7.2-1]).
 */
export const ID_PATTERN = '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$';
const idRegExp = new RegExp(ID_PATTERN);

export const Id = Type.String({ pattern: ID_PATTERN });

export function isId(value: string): boolean {
  return idRegExp.test(value);
}

/** An ISO 8601 UTC timestamp with milliseconds, as produced by `Date.prototype.toISOString`. */
export const Timestamp = Type.String({ format: 'date-time' });
