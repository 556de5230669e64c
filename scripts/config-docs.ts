// Writes docs/configuration.md from the settings specs; `--check` only compares (exit 1 on drift).
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { configurationMarkdown } from '../src/catalog.js';

const path = resolve(import.meta.dirname, '../docs/configuration.md');
const text = configurationMarkdown();
if (process.argv.includes('--check')) {
  let current = '';
  try {
    current = readFileSync(path, 'utf8');
  } catch {
    // missing counts as drift
  }
  if (current !== text) {
    process.stderr.write('docs/configuration.md is out of date: run npm run docs:config\n');
    process.exit(1);
  }
} else {
  writeFileSync(path, text);
  process.stdout.write(`wrote ${path}\n`);
}
