#!/usr/bin/env node
import '../dist/cli/nvmf-farm.js';
