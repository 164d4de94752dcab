/**
 * What a host controller can be told, and the defaults, which follow Linux's nvme-fabrics host
 * (drivers/nvme/host/fabrics.h: kato 5 s, ctrl_loss_tmo 600 s, nvme_max_retries 5; queue size 128).
 */
import type { Logger } from 'pino';
import { DISCOVERY_NQN } from '../nvme/nqn.js';

export interface HostControllerOptions {
  traddr: string;
  trsvcid: string | number;
  subnqn: string;
  /** Default: this process's generated `nqn.2014-08.org.nvmexpress:uuid:<uuid>`. */
  hostnqn?: string;
  /** Host Identifier as a UUID; default: the host NQN's UUID or the process's. */
  hostid?: string;
  /** I/O queues to ask for (Set Features Number of Queues); default 2. */
  nrIoQueues?: number;
  /** Entries per I/O queue (SQSIZE = queueDepth - 1); default 128, capped by CAP.MQES and MAXCMD. */
  queueDepth?: number;
  hdgst?: boolean;
  ddgst?: boolean;
  /** Keep Alive Timeout in ms (Connect KATO); keep-alives go out every kato/2. 0 disables. Default 5000 (0 for discovery). */
  kato?: number;
  /** A command not completed within this fails and the controller reconnects; default 30000, 0 = never. */
  commandTimeoutMs?: number;
  /** First reconnect delay; default 1000 ms, doubling per failed attempt up to maxReconnectDelayMs. */
  reconnectDelayMs?: number;
  /** Default 30000 ms. */
  maxReconnectDelayMs?: number;
  /** Give up and go to 'deleted' this long after a loss; default 600000 (Linux ctrl_loss_tmo); 0 = at once; Infinity = never. */
  ctrlLossTimeoutMs?: number;
  /** I/O waits for a reconnect and is retried until this long after a loss; default 0 = fail at once (Linux fast_io_fail_tmo). */
  fastIoFailTmoMs?: number;
  /** Times one I/O command is sent again after a lost connection or timeout; default 5 (Linux nvme_max_retries). */
  maxRetries?: number;
  /** TCP connect + ICReq/ICResp bound; default 10000 ms. */
  connectTimeoutMs?: number;
  /** Bound on the shutdown handshake in close(); default 5000 ms (Linux shutdown_timeout). */
  shutdownTimeoutMs?: number;
  logger?: Logger;
}

export type ResolvedControllerOptions = Required<
  Omit<HostControllerOptions, 'hostnqn' | 'hostid' | 'logger' | 'trsvcid'>
>;

const DEFAULT_IO_QUEUES = 2;
const DEFAULT_QUEUE_DEPTH = 128;
/** A queue of N entries holds N-1 commands: 2 is the smallest useful one. */
const MIN_QUEUE_DEPTH = 2;
const DEFAULT_KATO_MS = 5000;
const DEFAULT_COMMAND_TIMEOUT_MS = 30_000;
const DEFAULT_RECONNECT_DELAY_MS = 1000;
const DEFAULT_MAX_RECONNECT_DELAY_MS = 30_000;
const DEFAULT_CTRL_LOSS_TIMEOUT_MS = 600_000;
const DEFAULT_MAX_RETRIES = 5;
const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
const DEFAULT_SHUTDOWN_TIMEOUT_MS = 5000;

export function resolveControllerOptions(o: HostControllerOptions): ResolvedControllerOptions {
  // A discovery controller is read once and dropped: no keep-alive unless asked for.
  const discovery = o.subnqn === DISCOVERY_NQN;
  return {
    traddr: o.traddr,
    subnqn: o.subnqn,
    nrIoQueues: o.nrIoQueues ?? DEFAULT_IO_QUEUES,
    queueDepth: Math.max(MIN_QUEUE_DEPTH, o.queueDepth ?? DEFAULT_QUEUE_DEPTH),
    hdgst: o.hdgst ?? false,
    ddgst: o.ddgst ?? false,
    kato: o.kato ?? (discovery ? 0 : DEFAULT_KATO_MS),
    commandTimeoutMs: o.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS,
    reconnectDelayMs: Math.max(1, o.reconnectDelayMs ?? DEFAULT_RECONNECT_DELAY_MS),
    maxReconnectDelayMs: o.maxReconnectDelayMs ?? DEFAULT_MAX_RECONNECT_DELAY_MS,
    ctrlLossTimeoutMs: o.ctrlLossTimeoutMs ?? DEFAULT_CTRL_LOSS_TIMEOUT_MS,
    fastIoFailTmoMs: o.fastIoFailTmoMs ?? 0,
    maxRetries: o.maxRetries ?? DEFAULT_MAX_RETRIES,
    connectTimeoutMs: o.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
    shutdownTimeoutMs: o.shutdownTimeoutMs ?? DEFAULT_SHUTDOWN_TIMEOUT_MS,
  };
}
