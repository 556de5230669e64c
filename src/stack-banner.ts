import type { RunningStack } from './stack.js';

/** Where the stack keeps its embedded database, for the banner. */
export interface BannerFacts extends Pick<RunningStack, 'urls' | 'database' | 'tokenFiles' | 'logLevel' | 'logFormat'> {
  dataDir: string;
}

/**
 * What a person who just typed `npm start` needs to read: where to point the browser, what runs
 * where, where the two secrets are, and what the log will (not) show. Plain text for stderr —
 * stdout carries the logs, which may be JSON for a machine.
 */
export function stackBanner(facts: BannerFacts): string {
  const { urls } = facts;
  const shards = Object.keys(urls)
    .filter((k) => k.startsWith('shard_'))
    .map((k) => urls[k]);
  const where = facts.database === 'embedded' ? `embedded database in ${facts.dataDir}` : 'PostgreSQL (DATABASE_URI)';
  const rows: Array<[string, string]> = [
    ['member web app', `${urls.gophermart}/   <- open this in a browser`],
    ['loyalty API', `${urls.gophermart}/api/user/…   (API page: ${urls.gophermart}/docs)`],
    ['accrual service', `${urls.accrual}`],
    ['ledger orchestrator', `${urls.orchestrator}`],
    [shards.length === 1 ? 'ledger shard' : `ledger shards (${shards.length})`, shards.join(', ')],
  ];
  const secrets: Array<[string, string]> = [
    ['operator token', facts.tokenFiles.admin ? `${facts.tokenFiles.admin}   (Bearer token of POST /api/admin/deposit)` : 'from ADMIN_TOKEN'],
    ['shard token', facts.tokenFiles.shard ? `${facts.tokenFiles.shard}   (orchestrator <-> shards)` : 'from SHARD_TOKEN'],
  ];
  const width = Math.max(...[...rows, ...secrets].map(([label]) => label.length));
  const line = ([label, value]: [string, string]) => `  ${label.padEnd(width)}  ${value}`;
  const logs =
    facts.logFormat === 'pretty' && facts.logLevel === 'warn'
      ? 'Logs: warnings and errors only (LOG_LEVEL=info shows every request; LOG_FORMAT=json gives JSON lines).'
      : `Logs: ${facts.logFormat === 'json' ? 'JSON lines' : 'readable lines'} on stdout at level ${facts.logLevel}.`;
  return ['', `Gophermart platform is running (${where}).`, '', ...rows.map(line), '', ...secrets.map(line), '', logs, 'Ctrl-C stops everything.', ''].join(
    '\n',
  );
}
