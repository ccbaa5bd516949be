// @ts-check
// ESLint, type-aware: typescript-eslint's recommended type-checked rules and a few more, chosen
// for the bugs they catch (promises left unhandled or passed where nothing awaits them, loose
// equality, fallthrough, `any` leaking into typed code, objects stringified), not for layout.
// `npm run lint`. A rule is turned off only here, with the reason on the line above it.
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default defineConfig(
  { ignores: ['dist/', 'node_modules/', '.envoy/', '.envoy-api/', '.drainplane/', 'scratch/', 'test-artifacts/'] },
  js.configs.recommended,
  tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        // Each file is checked against its own tsconfig (ui/src has the DOM one); the plain
        // JavaScript files that no tsconfig includes get a default project with the root options.
        projectService: {
          allowDefaultProject: ['*.js', 'bin/*.js', 'scripts/*.mjs'],
          defaultProject: 'tsconfig.json',
          // The files those patterns match (the config files, bin/, scripts/): more than the default 8.
          maximumDefaultProjectFileMatchCount_THIS_WILL_SLOW_DOWN_LINTING: 16,
        },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      '@typescript-eslint/no-floating-promises': [
        'error',
        // node:test's test() and describe() return promises that the runner itself awaits.
        {
          allowForKnownSafeCalls: [
            {
              from: 'package',
              package: 'node:test',
              name: ['test', 'it', 'describe', 'suite', 'before', 'after', 'beforeEach', 'afterEach'],
            },
          ],
        },
      ],
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_' }],
      // `import type { A }` when all names are types, `import { b, type A }` when mixed.
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unnecessary-type-assertion': 'error',
      '@typescript-eslint/prefer-promise-reject-errors': 'error',
      // `x == null` is the one loose comparison allowed: it means null or undefined.
      eqeqeq: ['error', 'always', { null: 'ignore' }],
      'no-fallthrough': 'error',
      // A `let` assigned once after a closure that reads it was made stays a `let` (as const it
      // would throw if the closure ran first); so does a destructuring with one name reassigned.
      'prefer-const': ['error', { destructuring: 'all', ignoreReadBeforeAssign: true }],
      // Off: `async` without `await` is how a promise-returning contract (Fastify plugins and handlers, store ports) is met; removing it makes throws synchronous.
      '@typescript-eslint/require-await': 'off',
      // Off: control characters are what the checks of names, header values and bytes look for (src/fleet/config.ts, src/resource/constraints).
      'no-control-regex': 'off',
      // Off: patterns that match indented or aligned text spell its spaces out as they appear.
      'no-regex-spaces': 'off',
    },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    languageOptions: { globals: globals.node },
    rules: {
      // Off: untyped JavaScript, where every parameter and parsed value is `any`.
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
  {
    files: ['test/**'],
    rules: {
      // Off: tests read JSON bodies and log lines as `any` on purpose; their assertions are the type check.
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
);
