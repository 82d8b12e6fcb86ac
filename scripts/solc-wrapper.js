#!/usr/bin/env node
// A `solc` executable for forge, backed by solc-js (no native solc can be downloaded here).
// Supports what forge calls: `--version` and `--standard-json` (input on stdin, output on
// stdout), resolving imports from the file system against --base-path / --include-path.
'use strict';
const fs = require('fs');
const path = require('path');

const solc = require(path.join(__dirname, '..', '.tools', 'npm', 'node_modules', 'solc'));
const args = process.argv.slice(2);

if (args.includes('--version')) {
  // forge parses "Version: x.y.z+commit.hash..." from this line.
  process.stdout.write(`solc, the solidity compiler commandline interface\nVersion: ${solc.version()}\n`);
  process.exit(0);
}

if (!args.includes('--standard-json')) {
  process.stderr.write('solc-wrapper: only --version and --standard-json are supported\n');
  process.exit(2);
}

const roots = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--base-path' || args[i] === '--include-path') roots.push(args[++i]);
  else if (args[i].startsWith('--base-path=') || args[i].startsWith('--include-path=')) roots.push(args[i].split('=')[1]);
}
if (roots.length === 0) roots.push(process.cwd());

function findImports(importPath) {
  const candidates = path.isAbsolute(importPath) ? [importPath] : roots.map((r) => path.resolve(r, importPath));
  for (const c of candidates) {
    try {
      return { contents: fs.readFileSync(c, 'utf8') };
    } catch (_) { /* try the next root */ }
  }
  return { error: `File not found: ${importPath}` };
}

const input = fs.readFileSync(0, 'utf8');
process.stdout.write(solc.compile(input, { import: findImports }));
