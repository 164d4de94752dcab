#!/usr/bin/env node
import '../dist/cli/nvmf-bench.js';
