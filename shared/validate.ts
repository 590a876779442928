/**
 * The one place that compiles TypeBox schemas into validators. Every error is reported
 * with its JSON path, so a bad message or a bad config file says exactly what to fix.
 */
import type { Static, TSchema } from 'typebox';
import { Compile } from 'typebox/compile';
import { Settings } from 'typebox/system';

// TypeBox stops after 8 errors by default; a config file with a dozen mistakes must list
// them all (STYLE habit 4). Still bounded, so a hostile message cannot make us buffer
// without end.
Settings.Set({ maxErrors: 100 });

export type Validation<T> = { ok: true; value: T } | { ok: false; errors: string[] };

export interface Validator<S extends TSchema> {
  (value: unknown): Validation<Static<S>>;
}

/** "/devices/2/host" -> "devices/2/host"; the root is "(root)". */
function where(instancePath: string): string {
  return instancePath === '' ? '(root)' : instancePath.replace(/^\//, '');
}

export function validator<S extends TSchema>(schema: S): Validator<S> {
  const compiled = Compile(schema);
  return (value: unknown) => {
    if (compiled.Check(value)) return { ok: true, value: value as Static<S> };
    const errors = [...compiled.Errors(value)];
    // A union of literals reports one "const" line per branch, then an "anyOf" summary;
    // gather the allowed values so the summary can say "must be one of: open, all".
    const allowed = new Map<string, unknown[]>();
    for (const error of errors) {
      if (error.keyword !== 'const' || !error.schemaPath.includes('anyOf')) continue;
      const list = allowed.get(error.instancePath) ?? [];
      list.push((error.params as { allowedValue?: unknown }).allowedValue);
      allowed.set(error.instancePath, list);
    }
    const seen = new Set<string>();
    for (const error of errors) {
      if (error.keyword === 'boolean') continue;
      if (error.keyword === 'const' && error.schemaPath.includes('anyOf')) continue;
      let text = `${where(error.instancePath)}: ${error.message}`;
      if (error.keyword === 'anyOf' && allowed.has(error.instancePath)) {
        const values = allowed.get(error.instancePath) ?? [];
        text = `${where(error.instancePath)}: must be one of ${values.map((v) => JSON.stringify(v)).join(', ')}`;
      }
      if (error.keyword === 'additionalProperties') {
        const extra = (error.params as { additionalProperties?: string[] }).additionalProperties;
        text = `${where(error.instancePath)}: unknown field(s) ${extra?.join(', ') ?? ''}`;
      }
      seen.add(text);
    }
    return { ok: false, errors: [...seen] };
  };
}
