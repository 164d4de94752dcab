/**
 * A reconnect can find the subsystem's namespaces changed. The RemoteBdevs handed out keep the
 * geometry they were opened with, so a namespace that changed size or block size or vanished
 * under them is reported loudly rather than silently adopted.
 */
import type { Logger } from 'pino';
import type { NamespaceInfo } from './association.js';
import type { RemoteBdev } from './remote-bdev.js';

/** Logs every bdev whose namespace is gone or no longer matches its geometry. */
export function reportNamespaceChanges(
  bdevs: ReadonlyMap<number, RemoteBdev>,
  now: ReadonlyMap<number, NamespaceInfo>,
  log: Logger,
): void {
  for (const [nsid, bdev] of bdevs) {
    const info = now.get(nsid);
    if (!info || info.blockSize !== bdev.blockSize || info.blockCount !== bdev.blockCount) {
      log.error(
        { nsid, was: { bs: bdev.blockSize, blocks: bdev.blockCount }, now: info ?? null },
        'namespace changed or vanished across reconnect',
      );
    }
  }
}
