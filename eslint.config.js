// ESLint: JavaScript's and typescript-eslint's recommended rules; formatting is Prettier's
// (.prettierrc.json), both run by `npm run lint` and CI.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'data/', 'test-output/', 'web/vendor/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      // Lines stay readable; long string literals, URLs and regexps may run over.
      'max-len': [
        'error',
        { code: 120, ignoreStrings: true, ignoreTemplateLiterals: true, ignoreUrls: true, ignoreRegExpLiterals: true },
      ],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', caughtErrors: 'none' }],
      // Query rows and parsed JSON are untyped at the edges; the store types them.
      '@typescript-eslint/no-explicit-any': 'off',
      // Binary detection looks for NUL bytes on purpose.
      'no-control-regex': 'off',
    },
  },
  {
    files: ['web/**/*.js'],
    // Chart.js is loaded by a script tag of web/index.html.
    languageOptions: { globals: { ...globals.browser, Chart: 'readonly' } },
  },
);
