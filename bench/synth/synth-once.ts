/**
 * One measured synthesis, run in its own process by bench/synth/run.ts so that peak
 * memory belongs to this run alone. Prints one JSON line.
 *   tsx bench/synth/synth-once.ts <fleet.yaml> <outdir> [siteId]
 */
import { App } from 'aws-cdk-lib';
import { loadFleetFile } from '../../infra/config/load-fleet';
import { addFleet } from '../../infra/fleet-app';
import { cdkJsonContext } from '../../test/kit';

const [fleetFile, outdir, site] = process.argv.slice(2);
if (!fleetFile || !outdir) {
  console.error('usage: synth-once.ts <fleet.yaml> <outdir> [siteId]');
  process.exit(2);
}
const started = performance.now();
const fleet = loadFleetFile(fleetFile);
// As `cdk synth` runs the app by default: cdk-nag on, CloudFormation's own template
// validation off (set BENCH_VALIDATE=true to include it).
const app = new App({
  outdir,
  context: cdkJsonContext(),
  builtinCloudFormationValidation: process.env.BENCH_VALIDATE === 'true',
});
addFleet(app, fleet, { site });
app.synth();
const wallMs = performance.now() - started;
console.log(JSON.stringify({ wallMs, maxRssMb: process.resourceUsage().maxRSS / 1024 }));
