/**
 * The console's element conventions (STYLE.md, after home-assistant/frontend and Lit's
 * starter): screens in src/views/, widgets in src/components/ (a widget never imports a
 * screen); one element per file, the file named after its tag and the tag in
 * HTMLElementTagNameMap; private reactive state is `@state() private _x`; every event an
 * element fires is documented with `@fires` (and typed in HTMLElementEventMap), every
 * part it exposes with `@csspart`.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const src = new URL('../../../console/src/', import.meta.url).pathname;
const folders = ['views', 'components'] as const;

interface ElementFile {
  folder: (typeof folders)[number];
  file: string;
  text: string;
}

const files: ElementFile[] = folders.flatMap((folder) =>
  readdirSync(join(src, folder))
    .filter((file) => file.endsWith('.ts'))
    .map((file) => ({ folder, file, text: readFileSync(join(src, folder, file), 'utf8') })),
);

const all = (text: string, pattern: RegExp) => [...text.matchAll(pattern)].map((m) => m[1] ?? '');
const sorted = (list: string[]) => [...new Set(list)].sort();

/** The element's class JSDoc: the comment right before @customElement. */
function classDoc(text: string): string {
  const at = text.indexOf('@customElement(');
  const start = text.lastIndexOf('/**', at);
  return start === -1 ? '' : text.slice(start, at);
}

describe('console elements', () => {
  it('finds the screens and the widgets', () => {
    expect(files.filter((f) => f.folder === 'views').length).toBeGreaterThan(5);
    expect(files.filter((f) => f.folder === 'components').length).toBeGreaterThan(5);
  });

  it('has one element per file, named after its tag, in HTMLElementTagNameMap', () => {
    for (const { folder, file, text } of files) {
      const tags = all(text, /@customElement\('([^']+)'\)/g);
      const mapped = all(text, /HTMLElementTagNameMap\s*{\s*'([^']+)'/g);
      expect({ file: `${folder}/${file}`, tags, mapped }).toEqual({
        file: `${folder}/${file}`,
        tags: [file.replace(/\.ts$/, '')],
        mapped: tags,
      });
    }
  });

  it('keeps private reactive state as @state() private _x', () => {
    for (const { folder, file, text } of files) {
      const states = all(text, /@state\(\)\s+([^=;:]+)/g).map((s) => s.trim());
      const wrong = states.filter((s) => !/^private _\w+$/.test(s));
      expect({ file: `${folder}/${file}`, wrong }).toEqual({
        file: `${folder}/${file}`,
        wrong: [],
      });
    }
  });

  it('documents every event it fires (@fires) and types it in HTMLElementEventMap', () => {
    for (const { folder, file, text } of files) {
      const fired = sorted(all(text, /new CustomEvent(?:<[^>]*>)?\(\s*'([^']+)'/g));
      const documented = sorted(all(classDoc(text), /@fires\s+([\w-]+)/g));
      const typed = sorted(all(text, /^\s*'([\w-]+)': CustomEvent</gm));
      expect({ file: `${folder}/${file}`, documented, typed }).toEqual({
        file: `${folder}/${file}`,
        documented: fired,
        typed: fired,
      });
    }
  });

  it('documents every part it exposes (@csspart)', () => {
    for (const { folder, file, text } of files) {
      const parts = sorted(all(text, /\spart="([\w-]+)"/g));
      const documented = sorted(all(classDoc(text), /@csspart\s+([\w-]+)/g));
      expect({ file: `${folder}/${file}`, documented }).toEqual({
        file: `${folder}/${file}`,
        documented: parts,
      });
    }
  });

  it('keeps widgets free of screens: nothing in components/ imports views/', () => {
    const offenders = files
      .filter(
        (f) =>
          f.folder === 'components' && /from '\.\.\/views\/|import '\.\.\/views\//.test(f.text),
      )
      .map((f) => f.file);
    expect(offenders).toEqual([]);
  });

  it('detects an undocumented event and a badly named state (the checks work)', () => {
    const sample = `
      /** A sample. */
      @customElement('vigil-sample')
      class S { @state() private open = false;
        fire() { this.dispatchEvent(new CustomEvent<X>('vigil-sample-change', {})); } }`;
    expect(all(sample, /new CustomEvent(?:<[^>]*>)?\(\s*'([^']+)'/g)).toEqual([
      'vigil-sample-change',
    ]);
    expect(all(classDoc(sample), /@fires\s+([\w-]+)/g)).toEqual([]);
    expect(all(sample, /@state\(\)\s+([^=;:]+)/g).map((s) => s.trim())).toEqual(['private open']);
  });
});
