#!/usr/bin/env -S MALLOC_MMAP_THRESHOLD_=4194304 MALLOC_TRIM_THRESHOLD_=67108864 node --initial-old-space-size=128
import '../dist/cli/nvmf-target.js';
