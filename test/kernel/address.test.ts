import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseListenAddress, parseServiceUrl } from '../../src/kernel/address.js';
import { formatRfc3339 } from '../../src/kernel/time.js';

test('listen addresses in every SPEC form', () => {
  assert.deepEqual(parseListenAddress('localhost:8080'), { host: 'localhost', port: 8080 });
  assert.deepEqual(parseListenAddress(':8080'), { host: '0.0.0.0', port: 8080 });
  assert.deepEqual(parseListenAddress('http://127.0.0.1:9000'), { host: '127.0.0.1', port: 9000 });
  assert.deepEqual(parseListenAddress('[::1]:81'), { host: '::1', port: 81 });
  assert.throws(() => parseListenAddress('localhost'));
  assert.throws(() => parseListenAddress('localhost:99999'));
});

test('service URLs', () => {
  assert.equal(parseServiceUrl('localhost:8081'), 'http://localhost:8081');
  assert.equal(parseServiceUrl(':8081'), 'http://localhost:8081');
  assert.equal(parseServiceUrl('http://accrual:8081/'), 'http://accrual:8081');
  assert.equal(parseServiceUrl('[::1]:8081'), 'http://[::1]:8081');
  // hosts no URL can carry: refused here rather than by the first request (or a TypeError)
  assert.throws(() => parseServiceUrl('a b:8081'), /has no valid host name/);
  assert.throws(() => parseServiceUrl('127.0.0.1:1;127.0.0.1:2'), /has no valid host name/);
});

test('RFC 3339 with numeric offset', () => {
  const s = formatRfc3339(new Date('2020-12-10T12:15:45.678Z'));
  assert.match(s, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$/);
  assert.equal(new Date(s).getTime(), Date.parse('2020-12-10T12:15:45Z'));
});

test('RFC 3339 in other time zones: the local wall clock and its offset, half hours and DST included', () => {
  const saved = process.env.TZ;
  try {
    process.env.TZ = 'Europe/Moscow';
    assert.equal(formatRfc3339(new Date('2020-12-10T12:15:45.678Z')), '2020-12-10T15:15:45+03:00');
    process.env.TZ = 'America/St_Johns';
    assert.equal(formatRfc3339(new Date('2020-12-10T12:15:45Z')), '2020-12-10T08:45:45-03:30');
    assert.equal(formatRfc3339(new Date('2020-07-10T12:15:45Z')), '2020-07-10T09:45:45-02:30');
  } finally {
    if (saved === undefined) delete process.env.TZ;
    else process.env.TZ = saved;
  }
});
