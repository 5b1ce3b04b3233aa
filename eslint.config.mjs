import js from '@eslint/js';
import { builtinModules } from 'node:module';
import tseslint from 'typescript-eslint';

// The layers, as import rules (one no-restricted-imports per folder: a later entry for the same
// files replaces the rule's options, so each folder lists all of its bans).
const vscodeBan = {
  name: 'vscode',
  message: 'Only src/extension may import vscode: keep the core, CLI and webview editor-free.',
};
const layer = (patterns, paths = []) => ({
  'no-restricted-imports': ['error', { paths: [vscodeBan, ...paths], patterns }],
});
const browserOnly = 'The webview is a browser bundle: no Node built-ins.';
const nodeBuiltins = builtinModules.map((name) => ({ name, message: browserOnly }));

export default tseslint.config(
  { ignores: ['dist/**', 'out/**', 'node_modules/**', '.vscode-test/**', '.cache/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: {
        project: ['./tsconfig.json', './src/webview/tsconfig.json'],
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      eqeqeq: ['error', 'always'],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  { files: ['src/**/*.ts'], ignores: ['src/extension/**'], rules: layer([]) },
  {
    files: ['src/cli/**/*.ts'],
    rules: layer([
      {
        regex: '(^|/)extension(/|$)',
        message: 'The CLI may not import the extension: share through src/core.',
      },
    ]),
  },
  {
    files: ['src/extension/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '(^|/)cli(/|$)',
              message: 'The extension may not import the CLI: share through src/core.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['src/webview/**/*.ts'],
    rules: layer(
      [
        { regex: '^node:', message: browserOnly },
        {
          regex: '(^|/)core(/|$)',
          message: 'The webview may not import src/core: move what both sides need to src/shared.',
        },
      ],
      nodeBuiltins,
    ),
  },
  {
    files: ['src/shared/**/*.ts'],
    rules: layer([
      {
        regex: '^(?!\\./)',
        message:
          'src/shared imports nothing outside itself: it is the floor the core, the extension and the webview stand on.',
      },
    ]),
  },
  {
    files: ['**/*.mjs', '**/*.js'],
    languageOptions: {
      globals: { process: 'readonly', console: 'readonly', URL: 'readonly', setTimeout: 'readonly' },
    },
  },
);
