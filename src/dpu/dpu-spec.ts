/**
 * A DPU volume named in one string, for places that take a single "filename" (the bench's `dpu`
 * ioengine, as fio's --filename). Three forms, all checked by the one DPU config schema:
 *   PATH/farm.json                                   a mirror over the farm's nodes
 *   PATH/dpu.json                                    an nvmf-dpu --config file
 *   "farm=PATH layout=stripe stripe-size=64KiB"      nvmf-dpu's options as key=value pairs
 *   "connect=tcp://…/A,tcp://…/B layout=concat"      (connect takes a comma-separated list)
 * fio separates several files with ':' in --filename, so a literal colon may be written `\:`.
 */
import { readFile } from 'node:fs/promises';
import {
  checkDpuConfig,
  configKeyOf,
  loadDpuConfigFile,
  optionKind,
  optionNameOf,
  optionValue,
  type DpuConfig,
} from './dpu-config.js';
import { ConfigError } from './schema-check.js';

const KEY_VALUE = /^([a-z][a-z-]*)=(.*)$/s;

const unescapeColons = (text: string) => text.replace(/\\:/g, ':');

/** True when the JSON file at `path` is a farm description rather than a DPU config. */
async function isFarmFile(path: string): Promise<boolean> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(path, 'utf8'));
  } catch (err) {
    throw new ConfigError(`"${path}" cannot be read as JSON: ${(err as Error).message}`);
  }
  return typeof json === 'object' && json !== null && 'nodes' in json && 'version' in json;
}

function fromPairs(spec: string): DpuConfig {
  const cfg: Record<string, unknown> = {};
  for (const token of spec.trim().split(/\s+/)) {
    const m = KEY_VALUE.exec(token);
    const key = m ? configKeyOf(m[1]) : undefined;
    if (!m || !key) {
      throw new ConfigError(
        `"${token}" in the DPU spec is not OPTION=VALUE with an nvmf-dpu option such as layout=mirror or farm=PATH`,
      );
    }
    const value = m[2];
    cfg[key] =
      optionKind(key) === 'list' ? value.split(',').filter(Boolean) : optionValue(key, value);
  }
  cfg.layout ??= 'mirror';
  // A bad field is named as the pair named it: `layout`, `stripe-size`.
  const nameOf = (path: string) => optionNameOf(path.split('/')[1] ?? path);
  return checkDpuConfig(cfg, `DPU spec "${spec}"`, nameOf);
}

/** Turns a one-string DPU spec into a checked DpuConfig. */
export async function dpuConfigFromSpec(text: string): Promise<DpuConfig> {
  const spec = unescapeColons(text.trim());
  if (spec.includes('=')) return fromPairs(spec);
  if (!spec.endsWith('.json')) {
    throw new ConfigError(
      `DPU spec "${text}" is neither a farm.json or nvmf-dpu config file nor OPTION=VALUE pairs such as "farm=data/farm.json layout=mirror"`,
    );
  }
  if (await isFarmFile(spec)) return checkDpuConfig({ farm: spec, layout: 'mirror' }, spec);
  return checkDpuConfig({ layout: 'mirror', ...(await loadDpuConfigFile(spec)) }, spec);
}
