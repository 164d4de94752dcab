/** `nvmf-bench`: fio-style benchmark of NVMe-oF targets, NBD servers and in-process bdevs. */
import { benchMain } from '../bench/index.js';

process.exitCode = await benchMain(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  handleSignals: true,
});
