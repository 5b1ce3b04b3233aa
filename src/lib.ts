/**
 * The library entry (`require('docker-stability')`): the same core the CLI and the VS Code
 * extension use, for test frameworks and scripts. Never imports `vscode`. See docs/library.md.
 */
export * from './core/levels';
export { Labels } from './core/labels';
export { stateDir, defaultLockDir } from './core/paths';
export { silentLogger, stderrLogger, type Logger } from './core/log';
export { resolveEndpoint, parseHost, isLocalSocket, type Endpoint, type ResolveOptions, type TlsMaterial } from './core/docker/endpoint';
export {
  startOwnershipProxy,
  ownerLabels,
  type OwnershipProxy,
  type OwnershipProxyOptions,
} from './core/docker/ownershipProxy';
export { DockerClient, DockerUnreachableError, isNotFound, daemonIdentity, type DaemonIdentity, type DaemonInfo, type DockerEvent, type CallOptions } from './core/docker/client';
export * from './core/monitor';
export * from './core/lock';
export * from './core/cleanup';
export * from './core/runs';
export * from './core/compose';
