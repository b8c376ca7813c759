'use strict';
// index.d.ts declares every export of index.js, and typical use type-checks.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { execFileSync } = require('node:child_process');

const packageDir = path.join(__dirname, '..');

test('every runtime export is declared in index.d.ts', () => {
  const declarations = fs.readFileSync(path.join(packageDir, 'index.d.ts'), 'utf8');
  const declared = new Set(
    [...declarations.matchAll(/^export declare (?:class|const|function) (\w+)/gm)].map((m) => m[1]),
  );
  assert.deepEqual([...declared].sort(), Object.keys(require('..')).sort());
});

test('an application using every declared name type-checks under --strict', () => {
  const tsc = require.resolve('typescript/bin/tsc');
  const check = path.join(__dirname, 'types_check.ts');
  try {
    execFileSync(process.execPath, [tsc, '--noEmit', '--strict', '--target', 'es2020', '--module', 'commonjs',
      '--moduleResolution', 'node', '--lib', 'es2020', check], { encoding: 'utf8', cwd: packageDir });
  } catch (error) {
    assert.fail(`tsc: ${error.stdout}${error.stderr}`);
  }
});
