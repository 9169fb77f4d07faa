#!/usr/bin/env node
// Thin launcher: the compiled CLI lives in dist/ (built by `npm install` through the prepare script).
import('../dist/src/cli.js').then((cli) => cli.main(process.argv.slice(2))).then((code) => {
  process.exitCode = code;
});
