import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { parse as parseYaml } from 'yaml';
import { parseListenAddress, parseServiceUrl } from './address.js';

/**
 * One setting of a service. Precedence (SPEC): environment > command-line flag > config file
 * > default. Commander alone would let flags win, so values are merged by hand here.
 */
export interface Setting<T> {
  env: string;
  /** Commander flag spec, e.g. `-a, --address <host:port>`. */
  flag: string;
  description: string;
  default: T;
  /** Shown in --help and docs when the default is not a plain value (e.g. "embedded"). */
  defaultLabel?: string;
  parse: (raw: string) => T;
  /** Value is a secret: never echoed back in errors or logs. */
  secret?: boolean;
  /** No default: the program refuses to start without a value (`default` is then never used). */
  required?: boolean;
  /**
   * A numbered list: also read from `<numbered>_1`, `<numbered>_2`, … in the environment (all
   * that are set, in order, without gaps), which win over `env` and the flag. See numberedListSetting.
   */
  numbered?: string;
}

export type SettingSpecs = Record<string, Setting<unknown>>;
export type ConfigOf<S extends SettingSpecs> = { [K in keyof S]: S[K] extends Setting<infer T> ? T : never };

export class ConfigError extends Error {}

/** A setting holding a credential or URL with one: optional, never echoed; `whenUnset` says what happens without it. */
export function secretSetting(env: string, flag: string, description: string, whenUnset: string): Setting<string | undefined> {
  return { env, flag, description, default: undefined, defaultLabel: whenUnset, parse: (raw) => (raw === '' ? undefined : raw), secret: true };
}

/**
 * Where the database is: a postgres:// or postgresql:// URL (several hosts comma-separated, as
 * the driver allows). The driver takes any string and reads whatever it can out of it —
 * `localhost:5432` became database "432", `mysql://…` a PostgreSQL login, an out-of-range port a
 * bare "Invalid URL" — so the form is checked with the other settings, naming the setting and
 * never echoing the value, which holds the password.
 */
export function databaseUriSetting(description: string, whenUnset: string): Setting<string | undefined> {
  const name = 'DATABASE_URI (-d)';
  return {
    ...secretSetting('DATABASE_URI', '-d, --database-uri <uri>', description, whenUnset),
    parse: (raw) => {
      if (raw === '') return undefined;
      const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(raw)?.[1];
      if (scheme === undefined) throw new ConfigError(`${name} must be a URL like postgres://user:password@host:5432/database`);
      if (!/^postgres(ql)?$/i.test(scheme)) throw new ConfigError(`${name} must be a postgres:// or postgresql:// URL, got a ${scheme}:// one`);
      // The driver keeps only the first of several hosts for this parse; so does the check.
      try {
        const hosts = decodeURIComponent(raw.slice(raw.indexOf('://') + 3).split(/[?/]/)[0] ?? '');
        const hostList = hosts.slice(hosts.indexOf('@') + 1);
        new URL(raw.replace(hostList, hostList.split(',')[0] ?? ''));
      } catch {
        throw new ConfigError(`${name} is not a valid URL (a port is 1 to 65535; characters such as @ : / in the password must be percent-encoded)`);
      }
      return raw;
    },
  };
}

/** A credential the program cannot run without and must never invent (there is no built-in value). */
/**
 * A shared secret that travels as `Authorization: Bearer <token>` (SHARD_TOKEN, ADMIN_TOKEN):
 * its value must be 1 or more visible ASCII characters. Anything else can never be presented:
 * the receiver reads the token as one word after `Bearer`, so a space (or one at either end)
 * makes every request carry a token that does not match, and a character past U+00FF cannot be
 * written into a header at all. A process started with such a value ran, and refused (or was
 * refused by) every peer: wallets stuck `CREATING`, transfers waiting for ever, deposits 401.
 * The message names the setting, never the value.
 */
export function bearerToken<T extends string | undefined>(setting: Setting<T>): Setting<T> {
  return {
    ...setting,
    parse: (raw) => {
      const value = setting.parse(raw);
      if (value !== undefined && !/^[!-~]+$/.test(value))
        throw new ConfigError(`${setting.env} must be visible ASCII characters without spaces: it is sent as "Authorization: Bearer <token>"`);
      return value;
    },
  };
}

export function requiredSecretSetting(env: string, flag: string, description: string): Setting<string> {
  return { env, flag, description, default: '', defaultLabel: 'none (required)', parse: (raw) => raw, secret: true, required: true };
}

/**
 * A list given either as numbered environment variables (`SHARD_ADDRESS_1`, `SHARD_ADDRESS_2`, …)
 * or as one comma-separated value (`env`, the flag, the config file). `parseItem` checks and
 * normalises one entry; at least one entry is required.
 */
export function numberedListSetting(spec: {
  numbered: string;
  env: string;
  flag: string;
  description: string;
  parseItem: (raw: string) => string;
}): Setting<string[]> {
  return {
    env: spec.env,
    flag: spec.flag,
    description: spec.description,
    default: [],
    defaultLabel: 'none (required)',
    numbered: spec.numbered,
    required: true,
    parse: (raw) => {
      const items = raw.split(',').map((item) => item.trim());
      // an empty entry (`a,,c`, a trailing comma) was dropped before: N, the count the entries
      // are numbered by, came out one less without a word — refused like a gap in the numbering
      const empty = items.indexOf('');
      if (empty >= 0)
        throw new ConfigError(`${spec.env} (--${longName(spec.flag)}): entry ${empty + 1} of "${raw}" is empty: every entry is needed, their number counts`);
      return items.map(spec.parseItem);
    },
  };
}

/**
 * `<prefix>_1` … `<prefix>_N`: all that are set, in order, joined as one list value; undefined
 * when none is set. A gap in the numbering is refused: it would silently change N.
 */
function numberedValue(prefix: string, env: Readonly<Record<string, string | undefined>>): string | undefined {
  const pattern = new RegExp(`^${prefix}_([1-9]\\d*)$`);
  const numbers = Object.keys(env)
    .map((key) => pattern.exec(key))
    .filter((m): m is RegExpExecArray => m !== null && (env[m[0]] ?? '').trim() !== '')
    .map((m) => Number(m[1]))
    .sort((a, b) => a - b);
  numbers.forEach((n, i) => {
    if (n !== i + 1) throw new ConfigError(`${prefix}_${i + 1} is missing while ${prefix}_${n} is set: they are numbered 1..N without gaps`);
    // joined with the others, its comma would make it two entries, and N one more than the variables set
    if (env[`${prefix}_${n}`]?.includes(',')) throw new ConfigError(`${prefix}_${n} holds a comma: each ${prefix}_<n> names one entry`);
  });
  return numbers.length > 0 ? numbers.map((n) => env[`${prefix}_${n}`]).join(',') : undefined;
}

/** The environment names a setting reads. */
export function settingEnvNames(setting: Setting<unknown>): string[] {
  return setting.numbered ? [setting.env, `${setting.numbered}_<n>`] : [setting.env];
}

/** Does this environment variable name belong to one of these settings (numbered ones included)? */
export function readsEnvName(specs: SettingSpecs, name: string): boolean {
  return Object.values(specs).some((s) => s.env === name || (s.numbered !== undefined && new RegExp(`^${s.numbered}_[1-9][0-9]*$`).test(name)));
}

export type ConfigResult<S extends SettingSpecs> = { kind: 'config'; config: ConfigOf<S> } | { kind: 'help'; text: string };

const MAX_DURATION_MS = 2_147_483_647;

export const parsers = {
  string: (raw: string): string => raw,
  /** Checked with the other settings, so a bad one is refused by name before anything starts. */
  listenAddress:
    (name: string) =>
    (raw: string): string => {
      try {
        parseListenAddress(raw);
      } catch (err) {
        throw new ConfigError(`${name}: ${(err as Error).message}`);
      }
      return raw;
    },
  /** A peer's address (host:port, :port or an http(s) URL), checked before anything starts. */
  serviceAddress:
    (name: string) =>
    (raw: string): string => {
      try {
        parseServiceUrl(raw);
      } catch {
        throw new ConfigError(`${name}: address "${raw}" is not host:port, :port or an http(s) URL`);
      }
      return raw;
    },
  port:
    (name: string) =>
    (raw: string): number => {
      const n = Number(raw.trim());
      if (!/^\d+$/.test(raw.trim()) || n > 65_535) throw new ConfigError(`${name} must be a port from 0 to 65535, got "${raw}"`);
      return n;
    },
  nonNegativeInt:
    (name: string) =>
    (raw: string): number => {
      const n = Number(raw.trim());
      if (!/^\d+$/.test(raw.trim()) || !Number.isSafeInteger(n)) throw new ConfigError(`${name} must be a non-negative integer, got "${raw}"`);
      return n;
    },
  positiveInt:
    (name: string) =>
    (raw: string): number => {
      const n = Number(raw.trim());
      if (!/^\d+$/.test(raw.trim()) || !Number.isSafeInteger(n) || n < 1) throw new ConfigError(`${name} must be a positive integer, got "${raw}"`);
      return n;
    },
  share:
    (name: string) =>
    (raw: string): number => {
      const n = Number(raw.trim());
      if (raw.trim() === '' || !Number.isFinite(n) || n < 0 || n > 1) throw new ConfigError(`${name} must be a number from 0 to 1, got "${raw}"`);
      return n;
    },
  /** Durations: plain milliseconds, or a number with ms/s/m/h suffix (`500ms`, `24h`). */
  durationMs:
    (name: string) =>
    (raw: string): number => {
      const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(raw.trim());
      if (!m) throw new ConfigError(`${name} must be a duration like 500, 500ms, 30s, 24h; got "${raw}"`);
      const factor = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(m[2] ?? 'ms') as 'ms' | 's' | 'm' | 'h'];
      const ms = Math.round(Number(m[1]) * factor);
      // timers and the SQL intervals built from these are 32-bit milliseconds (≈ 24.8 days)
      if (ms > MAX_DURATION_MS) throw new ConfigError(`${name} must be at most 24 days, got "${raw}"`);
      return ms;
    },
  /** A duration 0 would break: a timer of 0 spins, a timeout of 0 means "wait for ever" to Node. */
  positiveDurationMs:
    (name: string) =>
    (raw: string): number => {
      const ms = parsers.durationMs(name)(raw);
      if (ms < 1) throw new ConfigError(`${name} must be longer than 0, got "${raw}"`);
      return ms;
    },
};

function longName(flag: string): string {
  const m = /--([a-z0-9-]+)/.exec(flag);
  if (!m?.[1]) throw new Error(`setting flag "${flag}" needs a long name`);
  return m[1];
}

function camel(name: string): string {
  return name.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/** Go-style `-a=value` → `-a value`, which commander does not split by itself for short flags. */
function splitEquals(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (const arg of argv) {
    const m = /^(-[A-Za-z])=(.*)$/s.exec(arg);
    if (m?.[1] !== undefined && m[2] !== undefined) out.push(m[1], m[2]);
    else out.push(arg);
  }
  return out;
}

function readConfigFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read config file ${path}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  let data: unknown;
  try {
    data = path.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch {
    throw new ConfigError(`config file ${path} is not valid ${path.endsWith('.json') ? 'JSON' : 'YAML'}`);
  }
  if (data === null || data === undefined) return {};
  if (typeof data !== 'object' || Array.isArray(data)) throw new ConfigError(`config file ${path} must hold an object`);
  return data as Record<string, unknown>;
}

/** A config file key as compared: any case, `-` and `_` ignored. */
const fileKey = (name: string): string => name.toLowerCase().replace(/[-_]/g, '');

/** The names a setting goes by in a config file: its key, env name and flag name. */
function fileNames(key: string, setting: Setting<unknown>): string[] {
  return [key, setting.env, longName(setting.flag), camel(longName(setting.flag))].map(fileKey);
}

/** A misspelt key would silently leave its setting at the default: refused, naming it. */
function refuseUnknownKeys(path: string, file: Record<string, unknown>, specs: SettingSpecs): void {
  const known = new Set(Object.entries(specs).flatMap(([key, s]) => fileNames(key, s)));
  const unknown = Object.keys(file).filter((k) => !known.has(fileKey(k)));
  if (unknown.length > 0) {
    throw new ConfigError(`config file ${path}: unknown setting${unknown.length === 1 ? '' : 's'} ${unknown.map((k) => `"${k}"`).join(', ')}`);
  }
}

/** Finds a setting in a config file under its key, env name or flag name, in any case. */
function fileValue(file: Record<string, unknown>, key: string, setting: Setting<unknown>): string | undefined {
  const wanted = new Set(fileNames(key, setting));
  for (const [k, v] of Object.entries(file)) {
    if (!wanted.has(fileKey(k))) continue;
    if (v === null || v === undefined) return undefined;
    if (typeof v === 'object') throw new ConfigError(`config file key "${k}" must be a plain value`);
    return String(v);
  }
  return undefined;
}

export function describeDefault(setting: Setting<unknown>): string {
  if (setting.defaultLabel !== undefined) return setting.defaultLabel;
  if (setting.default === undefined) return 'none';
  return String(setting.default);
}

/**
 * Resolves a service's settings. Never exits the process: `--help` comes back as text and
 * bad input as a ConfigError, so the caller decides (and tests can call it directly).
 */
export function loadConfig<S extends SettingSpecs>(
  program: { name: string; summary: string },
  specs: S,
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): ConfigResult<S> {
  const cmd = new Command(program.name)
    .description(program.summary)
    .helpOption('-h, --help', 'show this help')
    .allowExcessArguments(false)
    .exitOverride()
    .configureOutput({ writeOut: () => undefined, writeErr: () => undefined });
  cmd.option('-c, --config <file>', 'config file, JSON or YAML (env CONFIG)');
  for (const [, s] of Object.entries(specs)) {
    cmd.option(s.flag, `${s.description} (env ${s.env}; default ${describeDefault(s)})`);
  }
  try {
    cmd.parse(splitEquals(argv), { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.help') return { kind: 'help', text: cmd.helpInformation() };
      // commander puts its suggestion on a line of its own; a refusal to start is one line
      throw new ConfigError(err.message.replace(/^error: /, '').replace(/\s*\n\s*/g, ' '));
    }
    throw err;
  }
  const flags = cmd.opts<Record<string, string | undefined>>();
  const configPath = env.CONFIG || flags.config;
  const file = configPath ? readConfigFile(configPath) : {};
  if (configPath) refuseUnknownKeys(configPath, file, specs);

  const config: Record<string, unknown> = {};
  // every required setting that is missing is named, in the one line: a start without
  // SHARD_TOKEN must say so even when the shard addresses are missing too
  const missingRequired: string[] = [];
  for (const [key, s] of Object.entries(specs)) {
    const fromEnv = (s.numbered ? numberedValue(s.numbered, env) : undefined) ?? env[s.env];
    const fromFlag = flags[camel(longName(s.flag))];
    const fromFile = fileValue(file, key, s);
    const given = fromEnv !== undefined && fromEnv !== '' ? fromEnv : (fromFlag ?? fromFile);
    const raw = given?.trim() === '' && s.required ? undefined : given;
    const value = raw === undefined ? s.default : s.parse(raw);
    const missing = raw === undefined || (Array.isArray(value) && value.length === 0);
    if (missing && s.required) {
      const names = s.numbered ? `${s.numbered}_1..N must be set (or ${s.env}, --${longName(s.flag)})` : `${s.env} must be set (or --${longName(s.flag)})`;
      missingRequired.push(`${names}: ${s.description}`);
    }
    config[key] = value;
  }
  if (missingRequired.length > 0) throw new ConfigError(missingRequired.join('; '));
  return { kind: 'config', config: config as ConfigOf<S> };
}

/**
 * A service's settings from typed values instead of strings: each setting's default, replaced
 * by `overrides` where given. For code that starts services itself (the stack, tests); a
 * required setting still has to be given.
 */
export function configWith<S extends SettingSpecs>(specs: S, overrides: Partial<ConfigOf<S>>): ConfigOf<S> {
  const given = overrides as Record<string, unknown>;
  const config: Record<string, unknown> = {};
  for (const [key, s] of Object.entries(specs)) {
    const value = key in given && given[key] !== undefined ? given[key] : s.default;
    if (s.required && (value === '' || (Array.isArray(value) && value.length === 0))) throw new ConfigError(`${key} (${s.env}) must be given`);
    config[key] = value;
  }
  return config as ConfigOf<S>;
}

/** Markdown table of settings, used by docs generation and tests that compare docs to code. */
export function settingsTable(specs: SettingSpecs): string {
  const rows = Object.values(specs).map(
    (s) =>
      `| ${settingEnvNames(s)
        .map((n) => `\`${n}\``)
        .join(', ')} | \`${s.flag.replace(/ <.*>$/, '')}\` | ${describeDefault(s).replace(/\|/g, '\\|')} | ${s.description} |`,
  );
  return ['| env | flag | default | meaning |', '|---|---|---|---|', ...rows].join('\n');
}
