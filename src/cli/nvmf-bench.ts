/** `nvmf-bench`: fio-style benchmark of NVMe-oF targets, NBD servers and in-process bdevs. */
import { benchMain } from '../bench/index.js';

const code = await benchMain(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr });
process.exitCode = code;
