/**
 * Portable parameters to PostgreSQL's: `?` and `@name` become `$1`, `$2`, ... (a name used
 * twice is one parameter), outside string literals, quoted identifiers and comments.
 * SQLite takes `?` and `@name` as they are (https://sqlite.org/lang_expr.html#varparam).
 * The translation of each statement text is kept: stores run the same texts over and over.
 */
import type { SqlParams } from './types.js';

interface Translation {
  text: string;
  /** Positional: how many `?`; named: the names in $n order. */
  positional: number;
  names: string[];
}

const cache = new Map<string, Translation>();
const CACHE_LIMIT = 2000;

function translate(sql: string): Translation {
  let text = '';
  let positional = 0;
  const names: string[] = [];
  const index = new Map<string, number>();
  let i = 0;
  while (i < sql.length) {
    const c = sql[i]!;
    // A literal, a quoted identifier or a comment goes through untouched.
    if (c === "'" || c === '"') {
      const end = sql.indexOf(c, i + 1);
      const stop = end === -1 ? sql.length : end + 1;
      text += sql.slice(i, stop);
      i = stop;
      continue;
    }
    if (c === '-' && sql[i + 1] === '-') {
      const end = sql.indexOf('\n', i);
      const stop = end === -1 ? sql.length : end;
      text += sql.slice(i, stop);
      i = stop;
      continue;
    }
    if (c === '?') {
      text += `$${++positional}`;
      i++;
      continue;
    }
    if (c === '@' && /[A-Za-z_]/.test(sql[i + 1] ?? '')) {
      let end = i + 1;
      while (end < sql.length && /\w/.test(sql[end]!)) end++;
      const name = sql.slice(i + 1, end);
      let n = index.get(name);
      if (n === undefined) {
        names.push(name);
        n = names.length;
        index.set(name, n);
      }
      text += `$${n}`;
      i = end;
      continue;
    }
    text += c;
    i++;
  }
  if (positional > 0 && names.length > 0)
    throw new Error(`SQL mixes ? and @name parameters; use one kind: ${sql.slice(0, 80)}`);
  return { text, positional, names };
}

/** better-sqlite3 refuses undefined and booleans; both engines take null and 0/1. */
export function bindable(value: unknown): unknown {
  if (value === undefined) return null;
  if (typeof value === 'boolean') return value ? 1 : 0;
  return value;
}

export function toPostgres(sql: string, params?: SqlParams): { text: string; values: unknown[] } {
  let translation = cache.get(sql);
  if (!translation) {
    translation = translate(sql);
    if (cache.size >= CACHE_LIMIT) cache.clear();
    cache.set(sql, translation);
  }
  const { text, positional, names } = translation;
  if (names.length > 0) {
    if (!params || Array.isArray(params))
      throw new Error(`SQL names parameters (@${names[0]}) but got none by name`);
    const named = params as Readonly<Record<string, unknown>>;
    return {
      text,
      values: names.map((name) => {
        if (!(name in named)) throw new Error(`missing named parameter @${name}`);
        return bindable(named[name]);
      }),
    };
  }
  const list = (params ?? []) as readonly unknown[];
  if (!Array.isArray(list) || list.length !== positional)
    throw new Error(
      `SQL takes ${positional} parameters, got ${Array.isArray(list) ? list.length : 'named ones'}`,
    );
  return { text, values: list.map(bindable) };
}
