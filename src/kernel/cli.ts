import { ConfigError, loadConfig, type ConfigOf, type SettingSpecs } from './config.js';
import { runUntilSignalled, type Running } from './lifecycle.js';
import { createLogger, type Logger } from './logger.js';

/**
 * Entry point shared by every bin/*: settings from env/flags/file, `--help`, clear config
 * errors (exit 2), then run until SIGINT/SIGTERM.
 */
export async function runServiceCli<S extends SettingSpecs>(
  program: { name: string; summary: string },
  specs: S,
  start: (config: ConfigOf<S>, logger: Logger) => Promise<Running>,
): Promise<void> {
  let config: ConfigOf<S>;
  try {
    const result = loadConfig(program, specs, process.argv.slice(2), process.env);
    if (result.kind === 'help') {
      process.stdout.write(result.text);
      return;
    }
    config = result.config;
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${program.name}: ${err.message}\n(see ${program.name} --help)\n`);
      process.exit(2);
    }
    throw err;
  }
  const logLevel = (config as Record<string, unknown>).logLevel;
  const logger = createLogger(program.name, typeof logLevel === 'string' ? logLevel : undefined);
  await runUntilSignalled(logger, () => start(config, logger));
}
