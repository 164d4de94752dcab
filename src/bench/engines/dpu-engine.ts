/**
 * `dpu`: the DPU's virtual namespace built in this process (src/dpu, the same assembly nvmf-dpu
 * runs: NVMe/TCP to every leg, then the layout), so the bench measures the volume without the NBD
 * shim in between. `--filename` is a DPU spec (src/dpu/dpu-spec.ts): a farm.json, an nvmf-dpu
 * config file, or nvmf-dpu options as pairs, e.g. "farm=data/farm.json layout=stripe".
 * Jobs naming the same spec share one volume (one set of controllers), as fio jobs naming one file
 * share it; two volumes over the same legs would be two DPUs writing behind each other's back.
 * Do not run it against a farm that a running nvmf-dpu serves, for the same reason.
 */
import pino from 'pino';
import { ConfigError } from '../../dpu/schema-check.js';
import { dpuConfigFromSpec } from '../../dpu/dpu-spec.js';
import { VirtualNamespace } from '../../dpu/virtual-namespace.js';
import { BenchUsageError } from '../errors.js';
import type { EngineTarget, IoEngine, OpenedDevice } from './io-engine.js';

interface Shared {
  volume: Promise<VirtualNamespace>;
  holders: number;
}

class DpuEngine implements IoEngine {
  readonly name = 'dpu';
  readonly description =
    'DPU volume in-process: --filename=FARM.json | DPU-CONFIG.json | "farm=PATH layout=mirror|stripe|concat|single"';
  private readonly shared = new Map<string, Shared>();

  async open(t: EngineTarget): Promise<OpenedDevice> {
    const spec = t.filename ?? t.uri;
    if (!spec) {
      throw new BenchUsageError(
        `job "${t.jobName}": ioengine=dpu needs --filename=PATH/farm.json or "farm=PATH layout=mirror"`,
      );
    }
    let entry = this.shared.get(spec);
    if (!entry) {
      entry = { volume: this.build(spec), holders: 0 };
      this.shared.set(spec, entry);
      entry.volume.catch(() => this.shared.delete(spec));
    }
    entry.holders++;
    const held = entry;
    let volume: VirtualNamespace;
    try {
      volume = await entry.volume;
    } catch (err) {
      held.holders--;
      throw err;
    }
    return {
      bdev: volume.bdev,
      label: `dpu:${volume.layout}(${volume.legs.map((l) => l.uri).join(',')})`,
      release: async () => {
        if (--held.holders > 0) return;
        this.shared.delete(spec);
        await volume.close();
      },
    };
  }

  private async build(spec: string): Promise<VirtualNamespace> {
    let config;
    try {
      config = await dpuConfigFromSpec(spec);
    } catch (err) {
      if (err instanceof ConfigError) throw new BenchUsageError(`ioengine=dpu: ${err.message}`);
      throw err;
    }
    // Leg faults and resyncs are worth seeing next to the bench's report; routine info is not.
    const logger = pino({ level: 'warn', name: 'dpu' }, pino.destination({ fd: 2, sync: true }));
    return VirtualNamespace.open(config, { logger });
  }
}

export const dpuEngine: IoEngine = new DpuEngine();
