import { ConfigError, loadConfig, type ConfigOf, type Setting, type SettingSpecs } from './config.js';
import { onStopSignals, runUntilSignalled, type Running } from './lifecycle.js';
import { createLogger, resolveLogFormat, type Logger } from './logger.js';
import type { LoggingConfig } from './settings.js';
import { isConnectionFault } from './db/unavailable.js';
import { describeStartupFailure } from './startup.js';

/** Exit code of a program that could not start (bad settings, address in use, database missing…). */
export const EXIT_STARTUP = 2;

/** One line on stderr and exit 2: what an operator reads first, without a stack trace. */
function refuseToStart(program: string, message: string, hint = ''): never {
  process.stderr.write(`${program}: ${message}${hint}\n`);
  process.exit(EXIT_STARTUP);
}

/**
 * Entry point shared by every bin/*: settings from env/flags/file, `--help`, then start and run
 * until SIGINT/SIGTERM. Anything that stops the start (bad settings, address in use, data
 * directory locked, database missing) is one line on stderr and exit 2; the stack goes to the
 * log at debug level only.
 */
export async function runServiceCli<S extends SettingSpecs & { [K in keyof LoggingConfig]: Setting<LoggingConfig[K]> }>(
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
    if (err instanceof ConfigError) refuseToStart(program.name, err.message, ` (see bin/${program.name} --help)`);
    throw err;
  }
  // '' = not set, where a program picks its level itself (the stack does)
  // S's constraint guarantees these two keys; TypeScript cannot see through the mapped type
  const logging = config as unknown as LoggingConfig;
  const logger = createLogger(program.name, logging.logLevel || 'info', resolveLogFormat(logging.logFormat));
  // When the outage guard drops connections, the driver can reject a statement promise nobody
  // holds any more (its caller was already answered 503). That is an outage, not a bug: it must
  // not end the process. Any other unhandled rejection still ends it, as Node's default would.
  process.on('unhandledRejection', (reason) => {
    if (isConnectionFault(reason)) {
      logger.warn({ err: reason }, 'database connection fault with no caller left (ignored)');
      return;
    }
    throw reason;
  });
  // asked to stop while still starting (e.g. waiting for PostgreSQL): nothing to finish yet
  const stopWhileStarting = (signal: NodeJS.Signals): void => {
    logger.info({ signal }, 'stopped before start-up finished');
    logger.flush(() => process.exit(0));
  };
  onStopSignals(stopWhileStarting);
  let running: Running;
  try {
    running = await start(config, logger);
  } catch (err) {
    logger.debug({ err }, 'start-up failed');
    await new Promise((resolve) => logger.flush(() => resolve(undefined)));
    refuseToStart(program.name, `cannot start: ${describeStartupFailure(err)}`);
  }
  runUntilSignalled(logger, running);
}
