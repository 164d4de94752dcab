/**
 * One-call access to a remote namespace: connect a controller, pick the namespace, hand back a
 * RemoteBdev that owns the controller (closing the bdev shuts the controller down). Accepts the
 * options of HostController.connect or a transport ID string (`tcp://HOST:PORT/NQN?nsid=N`).
 */
import { HostController, type HostControllerOptions } from './host-controller.js';
import { RemoteBdev } from './remote-bdev.js';
import { parseTransportId } from './transport-id.js';

export interface OpenRemoteBdevOptions extends HostControllerOptions {
  /** Default: the lowest active NSID. */
  nsid?: number;
  /** Bdev name; default `<subnqn>/ns<nsid>`. */
  name?: string;
}

export async function openRemoteBdev(
  target: OpenRemoteBdevOptions | string,
  extra: Omit<OpenRemoteBdevOptions, 'traddr' | 'trsvcid' | 'subnqn'> = {},
): Promise<RemoteBdev> {
  let opts: OpenRemoteBdevOptions;
  if (typeof target === 'string') {
    const id = parseTransportId(target);
    if (!id.subnqn) throw new RangeError(`"${target}" names no subsystem NQN`);
    opts = { ...extra, traddr: id.traddr, trsvcid: id.trsvcid, subnqn: id.subnqn };
    if (id.nsid !== undefined) opts.nsid ??= id.nsid;
    if (id.hostnqn !== undefined) opts.hostnqn ??= id.hostnqn;
  } else {
    opts = { ...extra, ...target };
  }
  const ctrl = await HostController.connect(opts);
  try {
    const nsid = opts.nsid ?? ctrl.namespaces()[0];
    const info = nsid === undefined ? undefined : ctrl.namespaceInfo(nsid);
    if (!info) {
      throw new RangeError(
        `${opts.subnqn} has no active namespace ${nsid ?? ''}; active: ${ctrl.namespaces().join(', ') || 'none'}`,
      );
    }
    return new RemoteBdev(ctrl, info, { ownsController: true, name: opts.name });
  } catch (err) {
    await ctrl.close();
    throw err;
  }
}
