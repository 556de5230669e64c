import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { DEFAULT_WEB_ROOT } from '../../src/gophermart/web.js';

test('the web app takes only types from the server contracts: no TypeBox or server code in its bundle', () => {
  const assets = join(DEFAULT_WEB_ROOT, 'assets');
  const scripts = readdirSync(assets).filter((f) => f.endsWith('.js'));
  assert.ok(scripts.length > 0, 'the web app is built (npm run build:web)');
  for (const file of scripts) {
    const code = readFileSync(join(assets, file), 'utf8');
    // TypeBox marks every schema with these symbols; server modules name their runtime
    for (const marker of ['TypeBox.Kind', 'fastify', 'node:']) assert.equal(code.includes(marker), false, `${file} holds ${marker}`);
  }
});
