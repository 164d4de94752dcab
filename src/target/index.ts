/** The storage node: target, subsystems, namespaces, controllers, configuration. */
export { NvmfTarget, type NvmfTargetOptions, type ListenAddress } from './nvmf-target.js';
export { Subsystem, type SubsystemOptions, type SubsystemType } from './subsystem.js';
export { Namespace, type NamespaceOptions, MAX_NSID } from './namespace.js';
export { Controller, ControllerState } from './controller.js';
export { QueuePair, QueuePairState, type TargetContext } from './queue-pair.js';
export { toNvmeStatus, NvmeCommandError, type CommandResponse } from './to-nvme-status.js';
export * from './config.js';
export * as limits from './controller-limits.js';
