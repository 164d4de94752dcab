#!/usr/bin/env node
import '../dist/cli/nvmf-target.js';
