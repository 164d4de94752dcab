/**
 * NBD URIs as the NBD project's doc/uri.md and libnbd spell them:
 *   nbd://HOST[:PORT][/EXPORT]            (TCP, port 10809 by default)
 *   nbd+unix:///EXPORT?socket=PATH        (unix socket)
 * The export name is the path without its leading slash, percent-decoded; empty = default export.
 */
import { NBD_DEFAULT_PORT } from './protocol.js';

export type NbdTarget =
  | { kind: 'tcp'; host: string; port: number; exportName: string }
  | { kind: 'unix'; path: string; exportName: string };

export function parseNbdUri(uri: string): NbdTarget {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    throw new RangeError(
      `"${uri}" is not an NBD URI; expected nbd://HOST[:PORT]/EXPORT or nbd+unix:///EXPORT?socket=PATH`,
    );
  }
  const exportName = decodeURIComponent(url.pathname.replace(/^\//, ''));
  if (url.protocol === 'nbd:') {
    if (!url.hostname)
      throw new RangeError(`"${uri}" has no host; expected nbd://HOST[:PORT]/EXPORT`);
    // URL keeps IPv6 literals bracketed; net.connect wants them bare.
    const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
    const port = url.port ? Number(url.port) : NBD_DEFAULT_PORT;
    return { kind: 'tcp', host, port, exportName };
  }
  if (url.protocol === 'nbd+unix:') {
    const path = url.searchParams.get('socket');
    if (!path) {
      throw new RangeError(`"${uri}" has no socket; expected nbd+unix:///EXPORT?socket=PATH`);
    }
    return { kind: 'unix', path, exportName };
  }
  throw new RangeError(
    `"${uri}" has scheme ${url.protocol.replace(/:$/, '')}; expected nbd or nbd+unix (TLS schemes are not supported)`,
  );
}
