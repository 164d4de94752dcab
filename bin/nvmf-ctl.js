#!/usr/bin/env node
import '../dist/cli/nvmf-ctl.js';
