/**
 * The numbers this target advertises, in one place: CAP, Identify Controller and the queue
 * options handed to the transport all read them here, so they cannot disagree.
 */
import { ioccszFor } from '../nvme/identify-controller.js';
import { NVME_VERSION_1_3 } from '../nvme/properties.js';

/** CAP.MQES, 0-based: I/O queues of up to 128 entries (queue depth 128). */
export const MAX_QUEUE_ENTRIES = 128;
export const CAP_MQES = MAX_QUEUE_ENTRIES - 1;
/** Admin queues of up to 128 entries too; Linux hosts use 32 (NVME_AQ_DEPTH). */
export const MAX_ADMIN_QUEUE_ENTRIES = 128;
/** CAP.TO in 500 ms units: the host waits this long for CSTS.RDY (7.5 s, as Linux nvmet). */
export const CAP_TIMEOUT_UNITS = 15;
/** VS and Identify VER: NVMe 1.3, the version Linux nvmet reports by default. */
export const NVME_VERSION = NVME_VERSION_1_3;
/** Identify Controller MAXCMD: outstanding commands per queue. */
export const MAX_COMMANDS = MAX_QUEUE_ENTRIES;
/** I/O queues one controller grants (Set Features Number of Queues answers at most this). */
export const MAX_IO_QUEUES = 64;

/** MDTS in units of CAP.MPSMIN (4 KiB): 2^8 * 4 KiB = 1 MiB per command. */
export const MDTS = 8;
export const PAGE_SIZE = 4096;
export const MAX_DATA_TRANSFER = PAGE_SIZE * 2 ** MDTS;

/** In-capsule data: 8 KiB on the admin queue (NVMe/TCP 1.0, 3.6.2.x; Linux NVME_TCP_ADMIN_CCSZ). */
export const ADMIN_IN_CAPSULE_DATA_SIZE = 8192;
/** In-capsule data on I/O queues, advertised as IOCCSZ: a 4 KiB write goes without an R2T. */
export const IO_IN_CAPSULE_DATA_SIZE = 8192;
export const IOCCSZ = ioccszFor(IO_IN_CAPSULE_DATA_SIZE);
/** IORCSZ: responses are bare 16-byte CQEs, in 16-byte units. */
export const IORCSZ = 1;
/** Maximum SGL data block descriptors per command (NVMe/TCP carries one). */
export const MSDBD = 1;

/** Identify Controller ACL and AERL, 0-based: 4 Aborts, 4 Asynchronous Event Requests held. */
export const ABORT_LIMIT = 3;
export const ASYNC_EVENT_REQUEST_LIMIT = 3;
/** Error Information log entries kept per controller (ELPE + 1). */
export const ERROR_LOG_ENTRIES = 64;
/** KAS: keep-alive granularity in 100 ms units. KATO is rounded up to a multiple of it. */
export const KEEP_ALIVE_SUPPORT = 1;
export const KAS_UNIT_MS = 100;

/** Firmware revision reported in Identify FR (8 ASCII characters). */
export const FIRMWARE_REVISION = '0.1.0';

/** MAXH2CDATA announced in ICResp: a whole MDTS-sized write in one H2CData PDU. */
export const MAX_H2C_DATA = MAX_DATA_TRANSFER;
