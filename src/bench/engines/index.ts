/** The engines nvmf-bench ships with; later issues register `dpu` and `rdma` the same way. */
import { bdevEngine, nullEngine } from './bdev-engine.js';
import { dpuEngine } from './dpu-engine.js';
import { registerEngine } from './io-engine.js';
import { nbdEngine } from './nbd-engine.js';
import { nvmfEngine } from './nvmf-engine.js';

export * from './io-engine.js';

export function registerBuiltinEngines(): void {
  for (const engine of [bdevEngine, nullEngine, nbdEngine, nvmfEngine, dpuEngine])
    registerEngine(engine);
}
