/** The NVMe-oF host (initiator): controllers, remote namespaces as bdevs, discovery. */
export {
  HostController,
  type HostControllerOptions,
  type ControllerState,
} from './host-controller.js';
export { RemoteBdev, type RemoteBdevOptions } from './remote-bdev.js';
export { openRemoteBdev, type OpenRemoteBdevOptions } from './open-remote-bdev.js';
export {
  discover,
  discoverLog,
  readDiscoveryLog,
  type DiscoveryLog,
  type DiscoverOptions,
  type DiscoveryLogEntry,
} from './discovery.js';
export {
  parseTransportId,
  formatTransportId,
  type TransportId,
  NVME_TCP_DEFAULT_PORT,
  NVME_TCP_DISCOVERY_PORT,
} from './transport-id.js';
export { defaultHostIdentity, type HostIdentity } from './host-identity.js';
export { describeStatus } from './completion-error.js';
export type { NamespaceInfo } from './association.js';
