#!/usr/bin/env node
'use strict';
// `npx highscore` from the repository: runs the bundled CLI (built by `npm install` / `npm run build`).
const path = require('path');
const fs = require('fs');
const cli = path.join(__dirname, '..', 'dist', 'cli.js');
if (!fs.existsSync(cli)) {
  console.error('highscore: dist/cli.js is missing. Run `npm run build` in ' + path.dirname(__dirname) + ' first.');
  process.exit(2);
}
require(cli);
