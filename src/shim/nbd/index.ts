/** The NBD shim: a server exporting bdevs and a client that is a bdev. */
export {
  NbdServer,
  type NbdServerOptions,
  type NbdListenAddress,
  type NbdBoundAddress,
} from './nbd-server.js';
export type { NbdExportConfig } from './nbd-export.js';
export { NbdClient, type NbdClientOptions } from './nbd-client.js';
export { parseNbdUri, type NbdTarget } from './nbd-uri.js';
export { NbdError, NbdProtocolError, toNbdErrno, nbdErrnoToStatus } from './nbd-error.js';
