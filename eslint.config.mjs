// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'cdk.out/', 'cdk.out.*/', 'bench/out/', 'coverage/', '**/*.js', '**/*.mjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-non-null-assertion': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-template-curly-in-string': 'error',
      eqeqeq: ['error', 'always'],
      'prefer-const': 'error',
    },
  },
  // The arrows run one way (README, "Layout"): tools → infra → contracts, runtime → contracts.
  ...layerRules(),
);

/**
 * One `no-restricted-imports` entry per folder: what it may not import, and why.
 * Relative specifiers are matched by regular expression on their folder names.
 */
function layerRules() {
  const ours = (folders) => `^(\\.\\./)+(${folders.join('|')})(/|$)`;
  const cdk = { group: ['aws-cdk-lib', 'aws-cdk-lib/*', 'constructs'], message: 'CDK code lives in infra/.' };
  const rule = (files, patterns) => ({ files, rules: { 'no-restricted-imports': ['error', { patterns }] } });
  return [
    rule(
      ['contracts/**/*.ts'],
      [
        { regex: '^\\.\\./', message: 'contracts/ imports nothing of ours: the stacks, handlers and tools import it.' },
        cdk,
        { group: ['@aws-sdk/*'], message: 'contracts/ holds no AWS client: it is shared by every bundle.' },
      ],
    ),
    rule(
      ['runtime/**/*.ts'],
      [
        {
          regex: ours(['infra', 'tools', 'bin', 'test', 'bench']),
          message: 'runtime/ (the Lambda handlers) imports contracts/ only.',
        },
        cdk,
      ],
    ),
    rule(
      ['infra/**/*.ts'],
      [
        {
          regex: ours(['runtime', 'tools', 'bin', 'test', 'bench']),
          message: 'infra/ imports contracts/ only (a handler is an asset: name its entry by path).',
        },
      ],
    ),
    rule(
      ['tools/**/*.ts'],
      [
        {
          regex: ours(['runtime', 'bin', 'test', 'bench']),
          message: 'tools/ import infra/ and contracts/, never a handler.',
        },
      ],
    ),
    rule(
      ['bench/**/*.ts'],
      [{ regex: '^(\\.\\./)+test/(?!kit(/|$))', message: 'bench/ imports the test kit (test/kit), not test files.' }],
    ),
  ];
}
