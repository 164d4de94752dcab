/** nvmf-bench: a fio-compatible benchmark that drives any Bdev through pluggable ioengines. */
export { benchMain, type BenchIo } from './bench-main.js';
export {
  registerEngine,
  getEngine,
  listEngines,
  type IoEngine,
  type EngineTarget,
  type OpenedDevice,
} from './engines/index.js';
export { BenchUsageError, UnsupportedOptionError, VerifyError } from './errors.js';
