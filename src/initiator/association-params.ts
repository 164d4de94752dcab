/**
 * What each association of a host controller is built with: the same target, host identity and
 * resolved options on the first connect and on every reconnect, so the two cannot drift.
 */
import type { Logger } from 'pino';
import { DISCOVERY_NQN } from '../nvme/nqn.js';
import type { Association, AssociationParams } from './association.js';
import type { ResolvedControllerOptions } from './controller-options.js';

/** Where the controller is and who connects to it (HostController has these). */
export interface AssociationEndpoint {
  readonly traddr: string;
  readonly trsvcid: string;
  readonly subnqn: string;
  readonly hostnqn: string;
}

export function associationParams(
  to: AssociationEndpoint,
  hostid: Buffer,
  opt: ResolvedControllerOptions,
  logger: Logger,
  onFault: (failed: Association, reason: string) => void,
): AssociationParams {
  return {
    host: to.traddr,
    port: Number(to.trsvcid),
    subnqn: to.subnqn,
    hostnqn: to.hostnqn,
    hostid,
    discovery: to.subnqn === DISCOVERY_NQN,
    nrIoQueues: opt.nrIoQueues,
    queueDepth: opt.queueDepth,
    hdgst: opt.hdgst,
    ddgst: opt.ddgst,
    kato: opt.kato,
    commandTimeoutMs: opt.commandTimeoutMs,
    connectTimeoutMs: opt.connectTimeoutMs,
    logger,
    onFault,
  };
}
