/** The DPU's virtual-namespace layouts: bdevs stacked on bdevs. */
export * from './raid-core.js';
export * from './concat-bdev.js';
export * from './stripe-bdev.js';
export * from './mirror-bdev.js';
export { MirrorResync } from './mirror-resync.js';
export * from './region-locks.js';
export * from './write-intent-bitmap.js';
