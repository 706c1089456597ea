/**
 * Library entry of the control plane, for tests and embedders: the
 * in-process server, the typed client, the config and the API types.
 */
export { startServer, initialChanges, type LinerateServer, type ServerOptions } from './server';
export { createClient, describeError, DEFAULT_ADDR, type LinerateClient } from './client';
export { parseConfig, loadConfigFile, resolvePaths, ConfigError, type Config, type ConfigInput, type Resolved } from './config/schema';
export { dataplaneArgs } from './dataplane/spawn';
export { createLab, destroyLab } from './lab/lab';
export { createLogger, silentLogger } from './log';
export { demoConfigPath, packageRoot, protoRoot } from './paths';
export type * as api from './gen';
