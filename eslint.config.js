// Lint: typescript-eslint's recommended rules, no import cycles, and the layer rules of DESIGN.md
// (which layer may import which) enforced by the local `nuvola/layers` rule below.
import tseslint from 'typescript-eslint';
import importX from 'eslint-plugin-import-x';
import layers from './scripts/eslint-layers.js';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '**/.nuvola/**', 'bench/results/**', 'examples/**/node_modules/**', 'console/**'] },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    plugins: { 'import-x': importX, nuvola: { rules: { layers } } },
    settings: { 'import-x/resolver': { node: { extensions: ['.ts', '.js'] } } },
    rules: {
      'nuvola/layers': 'error',
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    files: ['examples/**/*.{ts,js}', 'test/fixtures/**/*.{ts,js,cjs,mjs}'],
    rules: { '@typescript-eslint/no-require-imports': 'off', '@typescript-eslint/no-unused-vars': 'off' },
  },
);
