import js from '@eslint/js';
import ts from 'typescript-eslint';
import svelte from 'eslint-plugin-svelte';
import globals from 'globals';
import svelteConfig from './ui/svelte.config.js';

export default ts.config(
  {
    ignores: ['ui/dist/**', 'node_modules/**', 'target/**', 'src-tauri/**', 'gen/**'],
  },
  js.configs.recommended,
  ...ts.configs.recommended,
  ...svelte.configs.recommended,
  {
    languageOptions: {
      globals: { ...globals.browser },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // Only the generated bindings may talk to Rust directly; everything else goes through ui/src/lib/ipc.
      'no-restricted-imports': [
        'error',
        {
          paths: [
            {
              name: '@tauri-apps/api/core',
              message: 'Use the generated commands from ui/src/lib/ipc (bindings.ts is the only module that may invoke Rust).',
            },
          ],
          patterns: [
            {
              group: ['@tauri-apps/api/core/*'],
              message: 'Use the generated commands from ui/src/lib/ipc.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.svelte', '**/*.svelte.ts', '**/*.svelte.js'],
    languageOptions: {
      parserOptions: {
        projectService: false,
        extraFileExtensions: ['.svelte'],
        parser: ts.parser,
        svelteConfig,
      },
    },
  },
  {
    // The end-to-end tests run in Node and drive the window through WebDriver.
    files: ['tests/e2e/**/*.mjs'],
    languageOptions: {
      globals: { ...globals.node },
    },
  },
  {
    // The generated bindings are the one module allowed to import the Tauri core API.
    files: ['ui/src/lib/ipc/bindings.ts'],
    rules: {
      'no-restricted-imports': 'off',
    },
  },
  {
    files: ['ui/vite.config.ts', 'ui/svelte.config.js', 'eslint.config.js'],
    languageOptions: {
      globals: { ...globals.node },
    },
  },
);
