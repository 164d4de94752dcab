/**
 * Where the legs of the virtual namespace come from: an explicit list of transport IDs, the
 * discovery log of one discovery controller (NVMe-oF 1.1, 5), or a farm description. Each source
 * resolves to transport IDs in layout order; connecting them is VirtualNamespace's job.
 */
import type { Logger } from 'pino';
import { discover, parseTransportId, type TransportId } from '../initiator/index.js';
import { SubsystemType } from '../nvme/log-pages.js';
import { ConfigError } from './schema-check.js';
import type { DpuConfig } from './dpu-config.js';
import { parseHostPort } from './dpu-config.js';
import { NVME_TCP_DISCOVERY_PORT } from '../initiator/index.js';
import { readFarmDescription, nodeTransportId } from './farm-description.js';

export interface ResolvedLegs {
  /** One per leg, in layout order. */
  legs: TransportId[];
  /** Host NQN to connect as (a farm that admits only one host says which). */
  hostnqn?: string;
  /** Where the legs came from, for logs. */
  source: string;
}

export async function resolveLegs(cfg: DpuConfig, logger?: Logger): Promise<ResolvedLegs> {
  if (cfg.connect) {
    const legs = cfg.connect.map((text) => {
      let id: TransportId;
      try {
        id = parseTransportId(text);
      } catch (err) {
        throw new ConfigError(`--connect: ${(err as Error).message}`);
      }
      if (!id.subnqn) {
        throw new ConfigError(
          `--connect "${text}" names no subsystem; expected tcp://HOST:PORT/SUBNQN`,
        );
      }
      return id;
    });
    return { legs, hostnqn: cfg.hostnqn, source: 'connect' };
  }
  if (cfg.discover) {
    const { host, port } = parseHostPort(cfg.discover, '--discover', NVME_TCP_DISCOVERY_PORT);
    const entries = await discover({ traddr: host, trsvcid: port, hostnqn: cfg.hostnqn, logger });
    const legs: TransportId[] = entries
      .filter((e) => e.subtype === SubsystemType.Nvme)
      .map((e) => ({ trtype: 'tcp', traddr: e.traddr, trsvcid: e.trsvcid, subnqn: e.subnqn }));
    if (legs.length === 0) {
      throw new ConfigError(
        `the discovery controller at ${cfg.discover} lists no NVMe subsystem this host may use`,
      );
    }
    return { legs, hostnqn: cfg.hostnqn, source: `discover ${cfg.discover}` };
  }
  if (cfg.farm) {
    const farm = await readFarmDescription(cfg.farm);
    const legs = farm.nodes.map((node) => parseTransportId(nodeTransportId(node)));
    return { legs, hostnqn: cfg.hostnqn ?? farm.hostnqn, source: `farm ${cfg.farm}` };
  }
  throw new ConfigError('no storage named: give --connect, --discover or --farm');
}
