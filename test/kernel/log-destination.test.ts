import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { pino } from 'pino';

// The JSON log destination is sonic-boom, patched (patches/sonic-boom+4.2.1.patch) to remember
// the byte length of the buffer it appends to instead of measuring it on every line.

test('buffered log lines reach the file whole and in order, multi-byte text and buffer boundaries included', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gm-log-'));
  try {
    const file = join(dir, 'out.log');
    // a small maxWrite makes the destination start new buffers often
    const destination = pino.destination({ dest: file, sync: true, minLength: 512, maxWrite: 1024, mkdir: false });
    const expected: string[] = [];
    for (let i = 0; i < 3_000; i++) {
      const line = `${JSON.stringify({ i, text: i % 7 === 0 ? 'Чайник Bork — 7000 ₽ ✓' : 'x'.repeat(i % 300) })}\n`;
      expected.push(line);
      destination.write(line);
    }
    assert.equal(typeof (destination as unknown as { _lastBufLen?: unknown })._lastBufLen, 'number', 'the patch is applied');
    destination.flushSync();
    destination.end();
    assert.equal(readFileSync(file, 'utf8'), expected.join(''));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
