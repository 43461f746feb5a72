// ESLint over the whole repository (`npm run lint`; `.ci/run` runs it): typescript-eslint's recommended
// rules, with the project's choices below. tsc (`npm run typecheck`) does the type checking; this catches
// what it lets through (unused names, `any`, stray `require`). The layering (only src/extension imports
// vscode; src/common no network) is held by test/architecture.test.ts, so that `npm test` holds it too.
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', '**/.cache/**'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      // Protocol method and error-code tables are namespaces, as vscode-jsonrpc's are (STYLE).
      '@typescript-eslint/no-namespace': 'off',
      // A leading underscore names a parameter or binding that is there for its position only.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true }],
      // Node's built-in modules may be required where they are used, so that a cold client loads only what it
      // needs (src/client/codeCache.ts: a script compiled from a V8 code cache cannot use dynamic import()).
      '@typescript-eslint/no-require-imports': ['error', { allow: ['^node:'] }],
    },
  },
  // Tests send what the types forbid, on purpose (a wrong argument, a malformed message).
  { files: ['test/**'], rules: { '@typescript-eslint/no-explicit-any': 'off' } },
  {
    // CommonJS scripts (VS Code's test runner, bench helpers, the build) load modules with require.
    files: ['**/*.cjs', '**/*.js'],
    languageOptions: { sourceType: 'commonjs' },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
