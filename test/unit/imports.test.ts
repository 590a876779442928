/**
 * The shape the folders promise (docs/ARCHITECTURE.md): no module imports itself back
 * through others (types included: a cycle of types is still two files that cannot be
 * understood apart), and the folders of broker/ import each other without a cycle, so
 * each can be read, tested and replaced on its own; the composition (broker/app.ts,
 * broker/wiring/) sits above them all.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = new URL('../../', import.meta.url).pathname;
const parts = ['agent', 'broker', 'cli', 'console/src', 'lib', 'shared', 'sim'];

function sources(dir: string): string[] {
  let entries;
  try {
    entries = readdirSync(join(root, dir), { withFileTypes: true });
  } catch {
    return [];
  }
  return entries.flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') ? [path] : [];
  });
}

const pattern = /^(?:import|export)\s+(?:type\s+)?(?:[^'";]*?\sfrom\s+)?['"](\.[^'"]+)['"]/gms;

/** file -> the files it imports (relative imports, types included). */
function importGraph(): Map<string, Set<string>> {
  const files = new Set(parts.flatMap(sources).map((f) => normalize(f)));
  const graph = new Map<string, Set<string>>();
  for (const file of files) {
    const targets = new Set<string>();
    for (const match of readFileSync(join(root, file), 'utf8').matchAll(pattern)) {
      const target = normalize(join(dirname(file), match[1]!)).replace(/\.js$/, '.ts');
      if (files.has(target)) targets.add(target);
    }
    graph.set(file, targets);
  }
  return graph;
}

/** The strongly connected components of more than one node (Tarjan). */
function cycles(graph: Map<string, Set<string>>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (node: string): void => {
    index.set(node, next);
    low.set(node, next++);
    stack.push(node);
    onStack.add(node);
    for (const to of graph.get(node) ?? []) {
      if (!index.has(to)) {
        visit(to);
        low.set(node, Math.min(low.get(node)!, low.get(to)!));
      } else if (onStack.has(to)) low.set(node, Math.min(low.get(node)!, index.get(to)!));
    }
    if (low.get(node) === index.get(node)) {
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        component.push(member);
      } while (member !== node);
      if (component.length > 1) found.push(component.sort());
    }
  };
  for (const node of graph.keys()) if (!index.has(node)) visit(node);
  return found;
}

describe('imports', () => {
  const graph = importGraph();

  it('has no file that imports itself back through others', () => {
    expect(graph.size).toBeGreaterThan(100);
    expect(cycles(graph)).toEqual([]);
  });

  it("has no cycle between broker/'s folders", () => {
    const folderOf = (file: string) => relative('broker', file).split('/')[0]!;
    const folders = new Map<string, Set<string>>();
    for (const [file, targets] of graph) {
      // Files directly in broker/ are the composition root (app.ts) and the leaves every
      // folder uses (db, log, events): they are not a folder of their own.
      if (!file.startsWith('broker/') || !relative('broker', file).includes('/')) continue;
      const from = folderOf(file);
      for (const target of targets) {
        if (!target.startsWith('broker/') || !relative('broker', target).includes('/')) continue;
        const to = folderOf(target);
        if (to !== from) (folders.get(from) ?? folders.set(from, new Set()).get(from)!).add(to);
      }
    }
    expect(folders.size).toBeGreaterThan(5);
    expect(cycles(folders)).toEqual([]);
  });

  it('finds a cycle when there is one (the check itself works)', () => {
    const sample = new Map([
      ['a', new Set(['b'])],
      ['b', new Set(['c'])],
      ['c', new Set(['a'])],
      ['d', new Set(['a'])],
    ]);
    expect(cycles(sample)).toEqual([['a', 'b', 'c']]);
  });
});
