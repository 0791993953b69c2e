#!/usr/bin/env node
// `npx siteops` (package.json "bin"): the ops console's command line. The code is TypeScript
// (tools/cli/siteops.ts, CommonJS like the rest of the project) loaded through tsx, with the
// same hooks `node --import tsx` installs (CommonJS for require, ESM for dynamic imports such
// as `siteops audit`'s), so it runs from a checkout with no build step.
import { createRequire } from 'node:module';
import { register as registerCommonJs } from 'tsx/cjs/api';
import { register as registerEsm } from 'tsx/esm/api';

registerCommonJs();
registerEsm();
const require = createRequire(import.meta.url);
require('../tools/cli/broken-pipe.ts').exitQuietlyOnBrokenPipe();
const { runSiteops } = require('../tools/cli/siteops.ts');
process.exitCode = await runSiteops(process.argv.slice(2));
