#!/usr/bin/env node
import '../dist/cli/nvmf-dpu.js';
