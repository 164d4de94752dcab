/** NVMe/TCP transport: PDU codec, digests, host and controller queues, listener. */
export * from './pdu.js';
export { PduReader } from './pdu-reader.js';
export { headerDigest, dataDigest } from './digest.js';
export { QueueState } from './queue-core.js';
export {
  HostQueue,
  ADMIN_IN_CAPSULE_DATA_SIZE,
  type HostQueueOptions,
  type HostSubmitIo,
  type HostCompletion,
  type HostCompletionCallback,
} from './host-queue.js';
export {
  TargetQueue,
  type TargetQueueOptions,
  type TargetResponse,
  type CommandHandler,
} from './target-queue.js';
export { createTcpListener, type TcpListener, type TcpListenerOptions } from './tcp-listener.js';
