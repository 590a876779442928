/**
 * The console's browser bundle must not carry the API schemas (TypeBox): at runtime it
 * imports from shared/ only the schema-free modules (the route paths and the ticket
 * workflow), and those import nothing at runtime. Types from the schema modules are fine
 * (`import type` is erased).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = new URL('../../../', import.meta.url).pathname;

/** The shared modules the console may import at runtime, relative to shared/. */
const schemaFree = [
  'api/routes.ts',
  'ticket-workflow.ts',
  'notify-channels.ts',
  'warranty.ts',
  'wording/render.ts',
  'wording/messages.ts',
  'wording/catalogue.ts',
  'wording/en.ts',
  'wording/zh-CN.ts',
  'wording/documents.ts',
  'wording/documents-en.ts',
  'wording/documents-zh-CN.ts',
  'inspection-charts.ts',
  'zoned-time.ts',
];
const schemaFreeSpecs = schemaFree.map((file) => `/shared/${file.replace(/\.ts$/, '.js')}`);

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** Module specifiers of value imports and re-exports (not `import type` / `export type`). */
function runtimeImports(text: string): string[] {
  const found: string[] = [];
  const pattern = /^(?:import|export)\s+(?!type\b)(?:[^'";]*?\sfrom\s+)?['"]([^'"]+)['"]/gms;
  for (const match of text.matchAll(pattern)) found.push(match[1] ?? '');
  return found;
}

describe('console bundle boundary', () => {
  it('imports only the schema-free modules from shared/ at runtime', () => {
    const offenders: string[] = [];
    for (const file of sources(join(root, 'console/src'))) {
      for (const spec of runtimeImports(readFileSync(file, 'utf8'))) {
        if (spec.includes('/shared/') && !schemaFreeSpecs.some((free) => spec.endsWith(free))) {
          offenders.push(`${file.slice(root.length)} -> ${spec}`);
        }
      }
    }
    expect(offenders).toEqual([]);
  });

  it('keeps routes.ts free of imports, so it adds nothing but paths', () => {
    const text = readFileSync(join(root, 'shared/api/routes.ts'), 'utf8');
    expect(runtimeImports(text)).toEqual([]);
    expect(text).not.toMatch(/^import /m);
  });

  it('lets a schema-free module import only other schema-free modules (no TypeBox behind it)', () => {
    for (const file of schemaFree) {
      const text = readFileSync(join(root, 'shared', file), 'utf8');
      const imports = runtimeImports(text).map((spec) =>
        spec.startsWith('.')
          ? join(file, '..', spec).replace(/\.js$/, '.ts')
          : `outside shared/: ${spec}`,
      );
      const others = imports.filter((imported) => !schemaFree.includes(imported));
      expect({ file, imports: others }).toEqual({ file, imports: [] });
    }
  });

  it('detects a value import of a schema module (the check itself works)', () => {
    const sample = [
      "import type { Site } from '../../../shared/api/sites.js';",
      "import { siteApiRoutes } from '../../../shared/api/sites.js';",
      "export type { Ticket } from '../../../shared/api/tickets.js';",
    ].join('\n');
    expect(runtimeImports(sample)).toEqual(['../../../shared/api/sites.js']);
  });
});
