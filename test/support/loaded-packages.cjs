// Preloaded into a bin/* child (NODE_OPTIONS=--require) by test/gophermart/memory.test.ts: on
// SIGUSR2 it writes one stderr line naming every npm package the process has loaded so far, and
// the node flags it runs with.
// Each of the packages that test follows is CommonJS, so require.cache holds them all.
'use strict';
process.on('SIGUSR2', () => {
  const packages = new Set();
  for (const file of Object.keys(require.cache)) {
    const match = /node_modules[\\/]((?:@[^\\/]+[\\/])?[^\\/]+)/.exec(file);
    if (match) packages.add(match[1].replace(/\\/g, '/'));
  }
  process.stderr.write(`loaded-packages ${JSON.stringify({ packages: [...packages].sort(), execArgv: process.execArgv })}\n`);
});
