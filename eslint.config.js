// Lint rules for every package of the repository; the console gets browser globals.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'data/**', 'test-output/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-console': 'off',
    },
  },
  {
    // Rules that need the types: the stores are asynchronous, and a promise nobody awaits
    // or catches turns a database error (a fenced write on a deposed node, a lost
    // connection) into an unhandled rejection, which ends a Node 20 process, or drops the
    // work without a word. Await it, or send its failure to the component's log or error
    // path; `void` only for a promise that cannot reject, with a comment saying why.
    // Every TypeScript file belongs to tsconfig.json or console/tsconfig.json; the project
    // service finds the nearest one for each file (typescript-eslint v8,
    // https://typescript-eslint.io/packages/parser#projectservice). With the types, `eslint .`
    // needs about 3.5 times the CPU (23 -> 72-83 s) and 2.6 GB of memory instead of 0.5.
    // The tests keep the rules: there a floating promise is a missing await that lets a
    // test pass by accident (a63a773 fixed five).
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
    },
  },
  {
    files: ['console/src/**/*.ts'],
    languageOptions: { globals: { ...globals.browser } },
  },
);
