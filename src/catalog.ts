import { accrualSettings } from './accrual/config.js';
import { readsEnvName, settingsTable, type SettingSpecs } from './kernel/config.js';
import { orchestratorSettings } from './ledger/orchestrator/config.js';
import { shardSettings } from './ledger/shard/config.js';
import { gophermartSettings } from './gophermart/config.js';
import { stackSettings } from './stack.js';

/** One executable of the platform and the settings it reads. */
export interface ServiceEntry {
  /** `bin/<bin>`. */
  bin: string;
  title: string;
  specs: SettingSpecs;
}

/** Every service, in the order the docs list them. docs/configuration.md is generated from this. */
export const services: readonly ServiceEntry[] = [
  { bin: 'gophermart', title: 'Loyalty service', specs: gophermartSettings },
  { bin: 'accrual', title: 'Accrual service', specs: accrualSettings },
  { bin: 'orchestrator', title: 'Ledger orchestrator', specs: orchestratorSettings },
  { bin: 'shard', title: 'Ledger shard', specs: shardSettings },
  { bin: 'stack', title: 'Whole platform in one process (`npm start`)', specs: stackSettings },
];

/** Does this environment name belong to the service (one of its settings, numbered ones included, or `CONFIG`)? */
export function readsEnv(service: ServiceEntry, name: string): boolean {
  return name === 'CONFIG' || readsEnvName(service.specs, name);
}

/** The text of docs/configuration.md (`npm run docs:config` writes it; a test compares). */
export function configurationMarkdown(): string {
  const out = [
    '# Configuration',
    '',
    '<!-- Generated from the settings specs by `npm run docs:config` (scripts/config-docs.ts); do not edit by hand. -->',
    '',
    'Every executable reads its settings from, in order of precedence: the **environment**, then',
    '**command-line flags**, then a **config file** (`CONFIG` / `-c, --config <file>`, JSON or YAML,',
    'keys = the setting name, env name or flag name in any case), then the **default**. An empty',
    'environment variable counts as unset. `LOG_LEVEL` and `LOG_FORMAT` are read in any case',
    '(`LOG_LEVEL=INFO` is `info`). Durations take `ms`, `s`, `m`, `h` suffixes (a plain number',
    'is milliseconds). Secrets (`DATABASE_URI`, `JWT_SECRET`, `SHARD_TOKEN`, `ADMIN_TOKEN`) are never',
    'logged. Bad values stop the program with exit code 2 and a message naming the setting, before',
    'anything starts: a config file key that names no setting (a typo would leave the default in',
    'place), a duration of 0 where 0 would spin a loop or wait for ever (only `READ_CACHE_TTL` and',
    '`PROCESSING_DELAY` take 0), a peer address that is not `host:port`, `:port` or an http(s) URL (a',
    'shard address also without a path), a port above 65535, a `DATABASE_URI` that is not a',
    '`postgres://` or `postgresql://` URL (the message never repeats the value, which holds the',
    'password), a `SHARD_TOKEN` or `ADMIN_TOKEN` that is not all visible ASCII (a space, a tab, a',
    'character such as `é`: it travels as `Authorization: Bearer <token>`, where the receiver reads',
    'one word, so such a token could never be presented; the message names the setting, not the',
    'value). `bin/<name> --help` lists the same settings. `bin/stack` with `DATA_DIR=memory://`',
    'keeps its generated tokens in a new private temporary directory, which the banner names.',
  ];
  for (const s of services) {
    out.push('', `## ${s.title}: \`bin/${s.bin}\``, '', settingsTable(s.specs));
  }
  out.push('');
  return out.join('\n');
}
