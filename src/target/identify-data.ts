/**
 * The Identify data this target returns (NVMe Base 2.0, 5.17.2; NVMe-oF 1.1, 4.1): the
 * controller structure filled from the subsystem, the controller and controller-limits.ts; the
 * namespace structure from a namespace's bdev; the active NSID list; the NS descriptors.
 */
import {
  type IdentifyController,
  encodeIdentifyController,
  encodeIdentifyNamespace,
  encodeActiveNsList,
  encodeNsIdDescriptors,
  ControllerType,
  CommandSetId,
  NsIdType,
  ACTIVE_NS_LIST_MAX,
  IDENTIFY_DATA_SIZE,
  CMIC_MULTI_PORT,
  CMIC_MULTI_CONTROLLER,
  OAES_NS_ATTRIBUTE,
  OAES_DISCOVERY_LOG_CHANGE,
  CTRATT_HOST_ID_128,
  CTRATT_TBKAS,
  FRMW_SLOT1_READ_ONLY,
  FRMW_SLOTS_SHIFT,
  LPA_EXTENDED_DATA,
  ONCS_COMPARE,
  ONCS_DSM,
  ONCS_WRITE_ZEROES,
  VWC_PRESENT,
  VWC_FLUSH_BROADCAST,
  SGLS_SUPPORTED,
  SGLS_OFFSET,
  SQES_64,
  CQES_16,
  OFCS_DISCONNECT,
  NMIC_SHARED,
  DLFEAT_READ_ZEROES,
  NSFEAT_THIN_PROVISIONING,
} from '../nvme/identify.js';
import type { Controller } from './controller.js';
import type { Namespace } from './namespace.js';
import { MAX_NSID } from './namespace.js';
import {
  MDTS,
  NVME_VERSION,
  MAX_COMMANDS,
  IOCCSZ,
  IORCSZ,
  MSDBD,
  ABORT_LIMIT,
  ASYNC_EVENT_REQUEST_LIMIT,
  ERROR_LOG_ENTRIES,
  KEEP_ALIVE_SUPPORT,
  FIRMWARE_REVISION,
} from './controller-limits.js';

/** One read-only firmware slot (FRMW): this target has no firmware to update. */
const FRMW_ONE_READ_ONLY_SLOT = FRMW_SLOT1_READ_ONLY | (1 << FRMW_SLOTS_SHIFT);
/** Recommended Arbitration Burst 2^6 (as Linux nvmet). */
const RECOMMENDED_ARBITRATION_BURST = 6;

/** Identify Controller (CNS 01h) for `ctrl`. */
export function identifyControllerData(ctrl: Controller): Buffer {
  const sub = ctrl.subsystem;
  const discovery = ctrl.isDiscovery;
  const fields: Partial<IdentifyController> & Record<string, unknown> = {
    sn: sub.serial,
    mn: sub.model,
    fr: FIRMWARE_REVISION,
    rab: RECOMMENDED_ARBITRATION_BURST,
    cmic: discovery ? 0 : CMIC_MULTI_PORT | CMIC_MULTI_CONTROLLER,
    mdts: MDTS,
    cntlid: ctrl.cntlid,
    ver: NVME_VERSION,
    oaes: discovery ? OAES_DISCOVERY_LOG_CHANGE : OAES_NS_ATTRIBUTE,
    ctratt: CTRATT_HOST_ID_128 | CTRATT_TBKAS,
    cntrltype: discovery ? ControllerType.Discovery : ControllerType.Io,
    acl: ABORT_LIMIT,
    aerl: ASYNC_EVENT_REQUEST_LIMIT,
    frmw: FRMW_ONE_READ_ONLY_SLOT,
    lpa: LPA_EXTENDED_DATA,
    elpe: ERROR_LOG_ENTRIES - 1,
    kas: KEEP_ALIVE_SUPPORT,
    sqes: SQES_64,
    cqes: CQES_16,
    maxcmd: MAX_COMMANDS,
    nn: discovery ? 0 : MAX_NSID,
    oncs: discovery ? 0 : ONCS_COMPARE | ONCS_DSM | ONCS_WRITE_ZEROES,
    vwc: discovery ? 0 : VWC_PRESENT | VWC_FLUSH_BROADCAST,
    // NVMe/TCP: SGLs, and an SGL Data Block's address may be an offset (in-capsule data), as
    // Linux nvmet-tcp reports them.
    sgls: SGLS_SUPPORTED | SGLS_OFFSET,
    subnqn: sub.nqn,
    ioccsz: discovery ? 0 : IOCCSZ,
    iorcsz: discovery ? 0 : IORCSZ,
    icdoff: 0,
    fcatt: 0, // dynamic controller model
    msdbd: MSDBD,
    ofcs: OFCS_DISCONNECT,
  };
  return encodeIdentifyController(fields);
}

/** Identify Namespace (CNS 00h); an inactive NSID gets a zero-filled structure (Base 2.0, 5.17.2.1). */
export function identifyNamespaceData(ns: Namespace | undefined): Buffer {
  if (!ns) return Buffer.alloc(IDENTIFY_DATA_SIZE);
  return encodeIdentifyNamespace({
    nsze: ns.blockCount,
    ncap: ns.blockCount,
    nuse: ns.blockCount,
    // Deallocated blocks read as zeroes, so a block never written takes no space: thin provisioned.
    nsfeat: NSFEAT_THIN_PROVISIONING,
    flbas: 0,
    nmic: NMIC_SHARED,
    dlfeat: DLFEAT_READ_ZEROES,
    nguid: ns.nguid,
    lbaf: [{ ms: 0, lbads: Math.log2(ns.blockSize), rp: 0 }],
  });
}

/** Active NSIDs greater than `after`, at most 1024 (CNS 02h). */
export function activeNsListData(namespaces: readonly Namespace[], after: number): Buffer {
  const nsids = namespaces
    .map((n) => n.nsid)
    .filter((n) => n > after)
    .slice(0, ACTIVE_NS_LIST_MAX);
  return encodeActiveNsList(nsids);
}

/** Namespace Identification Descriptors (CNS 03h): NGUID, UUID and the command set (NVM). */
export function nsDescriptorData(ns: Namespace): Buffer {
  return encodeNsIdDescriptors([
    { nidt: NsIdType.Nguid, nid: ns.nguid },
    { nidt: NsIdType.Uuid, nid: ns.uuid },
    { nidt: NsIdType.Csi, nid: Buffer.from([CommandSetId.Nvm]) },
  ]);
}
