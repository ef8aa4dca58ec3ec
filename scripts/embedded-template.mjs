#!/usr/bin/env node
// The embedded database's template (issue #16): initdb and every migration, done once here by
// `npm run build` instead of by every first start (src/kernel/db/embedded-template.ts).
// Needs tsc's dist/; writes dist/embedded-template.
import { writeTemplate } from '../dist/kernel/db/write-template.js';

const began = performance.now();
await writeTemplate();
console.log(`embedded database template written to dist/embedded-template (${((performance.now() - began) / 1000).toFixed(1)} s)`);
