import tseslint from 'typescript-eslint';
import names from './tools/eslint/file-names.mjs';
export default [{ files: ['**/*.ts'], languageOptions: { parser: tseslint.parser }, plugins: { herald: names }, rules: { 'herald/file-name-matches-export': 'error' } }];
