import oclif from 'eslint-config-oclif'

export default [
  {ignores: ['dist/**', 'node_modules/**', 'tmp/**', 'coverage/**']},
  ...oclif,
  {
    rules: {
      'no-await-in-loop': 'off',
      'unicorn/no-process-exit': 'off',
      'unicorn/prefer-top-level-await': 'off',
      'n/no-process-exit': 'off',
      'perfectionist/sort-objects': 'off',
      'perfectionist/sort-object-types': 'off',
      'perfectionist/sort-interfaces': 'off',
      'perfectionist/sort-classes': 'off',
      'perfectionist/sort-union-types': 'off',
      'perfectionist/sort-switch-case': 'off',
      'perfectionist/sort-modules': 'off',
      'max-depth': 'off',
      complexity: 'off',
      camelcase: 'off',
      'no-warning-comments': 'off',
      '@typescript-eslint/no-explicit-any': 'off',
      'unicorn/prefer-string-raw': 'off',
      'unicorn/no-array-reduce': 'off',
      'unicorn/no-array-for-each': 'off',
      'no-bitwise': 'off',
      'max-params': 'off',
      '@stylistic/max-len': 'off',
      'unicorn/prefer-event-target': 'off',
    },
  },
  {
    files: ['test/**/*.ts'],
    rules: {
      'no-unused-expressions': 'off', '@typescript-eslint/no-unused-expressions': 'off', 'mocha/no-setup-in-describe': 'off', 'mocha/max-top-level-suites': 'off',
    },
  },
  {
    files: ['scripts/**/*.js', 'bin/**/*.js'],
    rules: {
      'n/no-unpublished-import': 'off', 'unicorn/prefer-module': 'off', 'no-console': 'off', 'n/shebang': 'off', 'n/hashbang': 'off',
    },
  },
]
