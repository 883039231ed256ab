// ESLint for the whole tree (npm run lint, .ci/run): typescript-eslint's type-aware rules over every
// TypeScript project (each file is checked with the tsconfig.json of its folder), and the layer
// boundaries of docs/DEVELOPING.md. Unused exports are knip's job (knip.json), not ESLint's.
import js from '@eslint/js';
import globals from 'globals';
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

/** Relative imports of these folders (or files: `../cli` is server/cli.ts) are errors, each with its reason. */
const forbid = (files, ...rules) => ({
  files,
  rules: {
    'no-restricted-imports': ['error', {
      patterns: rules.map(([layers, message]) => ({ regex: `^\\.{1,2}/(.*/)?(${layers.join('|')})(/|$)`, message })),
    }],
  },
});
const noTools = [['test', 'bench', 'scripts'], 'Product code imports no tests, benchmarks or scripts.'];
const noClient = [['client'], 'server/ never imports the extension (client/).'];
const noFronts = [['daemon', 'cli', 'server'], 'Only the fronts (server/cli/, server/daemon/) import the fronts.'];

export default defineConfig(
  { ignores: ['dist/**', 'dist-test/**', '.cache/**', '.vscode-test/**', 'bench/out/**', 'example/**', 'data/**', 'node_modules/**'] },
  js.configs.recommended,
  {
    files: ['**/*.ts'],
    extends: [tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      // node:test's test()/describe() return a promise the runner itself awaits.
      '@typescript-eslint/no-floating-promises': ['error', {
        allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['test', 'describe', 'it', 'suite'] }],
      }],
      '@typescript-eslint/no-misused-promises': 'error',
      // shared/protocol.ts keeps vscode-languageserver-protocol's `namespace FooRequest { export const type }` shape.
      '@typescript-eslint/no-namespace': 'off',
      // require() loads native and optional modules (better-sqlite3, ioredis, the language client) lazily, on first use.
      '@typescript-eslint/no-require-imports': 'off',
      // An async function without await keeps its interface's Promise shape and turns a throw into a rejection.
      '@typescript-eslint/require-await': 'off',
      // Database row values and YAML scalars arrive as unknown; String() of them is the deliberate conversion.
      '@typescript-eslint/no-base-to-string': 'off',
      // Forwarding a caught reason unchanged (`(e) => reject(e)`) is not inventing a non-Error one.
      '@typescript-eslint/prefer-promise-reject-errors': ['error', { allowThrowingAny: true, allowThrowingUnknown: true }],
      // The godotenv parser's ParseFailure is control flow (no stack to capture), caught before it leaves
      // server/core/env/read.ts (`path` is relative to server/tsconfig.json).
      '@typescript-eslint/only-throw-error': ['error', { allow: [{ from: 'file', name: 'ParseFailure', path: 'core/env/read.ts' }] }],
      // Destructuring a property away beside `...rest` (or naming it `_x`) is how a copy drops it.
      '@typescript-eslint/no-unused-vars': ['error', { ignoreRestSiblings: true, argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // A destructuring whose parts are partly reassigned stays one `let`.
      'prefer-const': ['error', { destructuring: 'all' }],
      // Stripping terminal escapes and control characters is what those regexes are for.
      'no-control-regex': 'off',
    },
  },
  {
    // Tests, benchmarks and scripts read untyped JSON (CLI output, reports, files) and assert on its shape.
    files: ['test/**/*.ts', 'bench/**/*.ts', 'scripts/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      // Their messages interpolate whatever they were given (lists, buffers, unknown errors) for a human to read.
      '@typescript-eslint/restrict-template-expressions': 'off',
      // `(await rpc.sendRequest('method', …)) as Result` names what an untyped request returns.
      '@typescript-eslint/no-unnecessary-type-assertion': 'off',
    },
  },
  {
    files: ['**/*.mjs'],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: { globals: globals.node },
  },

  // Layers (docs/DEVELOPING.md): core → store → keystore → cli/daemon; shared/ under both ends. One block per
  // folder, disjoint, because a later block's no-restricted-imports replaces an earlier one's.
  forbid(['server/core/**/*.ts'], [['store', 'keystore'], 'server/core/ is pure logic: no store or keystore imports.'], noFronts, noClient, noTools),
  forbid(['server/store/**/*.ts'], [['keystore'], 'server/store/ sits under keystore/: no keystore imports.'], noFronts, noClient, noTools),
  forbid(['server/keystore/**/*.ts'], noFronts, noClient, noTools),
  forbid(['server/*.ts', 'server/cli/**/*.ts', 'server/daemon/**/*.ts'], noClient, noTools),
  forbid(['client/**/*.ts'], [['server'], 'The extension reaches the daemon through shared/protocol.ts: no server/ imports.'], noTools),
  {
    files: ['shared/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ regex: '^\\.\\./', message: 'shared/ is the contract under both ends: it imports nothing of ours.' }] }],
    },
  },
);
