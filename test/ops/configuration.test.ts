import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { configurationMarkdown, services } from '../../src/catalog.js';
import { ROOT } from '../support/process.js';

const run = promisify(execFile);

test('docs/configuration.md is exactly what npm run docs:config generates from the settings specs', () => {
  const committed = readFileSync(resolve(ROOT, 'docs/configuration.md'), 'utf8');
  assert.equal(committed, configurationMarkdown(), 'docs/configuration.md is stale: run npm run docs:config');
  for (const s of services) {
    for (const spec of Object.values(s.specs)) assert.ok(committed.includes(`| \`${spec.env}\``), `${s.bin}: ${spec.env} missing`);
  }
});

for (const s of services) {
  test(`bin/${s.bin} --help lists every setting: env name, flag and default`, async () => {
    const { stdout } = await run(resolve(ROOT, 'bin', s.bin), ['--help'], { env: { PATH: process.env.PATH ?? '' }, timeout: 15_000 });
    const help = stdout.replace(/\s+/g, ' ');
    assert.match(help, /--config <file>/);
    assert.doesNotMatch(help, /SPEC/, 'help speaks for itself, citing no outside document');
    for (const spec of Object.values(s.specs)) {
      const long = /--[a-z0-9-]+/.exec(spec.flag)?.[0] ?? '';
      assert.ok(help.includes(spec.flag.replace(/\s+/g, ' ')), `${s.bin} --help: flag ${spec.flag} missing`);
      assert.ok(help.includes(`env ${spec.env};`), `${s.bin} --help: env ${spec.env} (for ${long}) missing`);
      const shown = spec.defaultLabel ?? (spec.default === undefined ? 'none' : String(spec.default));
      assert.ok(help.includes(`default ${shown.replace(/\s+/g, ' ')})`), `${s.bin} --help: default of ${spec.env} missing`);
    }
    for (const spec of Object.values(s.specs))
      if (spec.numbered) assert.ok(help.includes(`${spec.numbered}_1`), `${s.bin} --help: the numbered form ${spec.numbered}_n missing`);
  });
}
