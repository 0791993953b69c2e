import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';

/**
 * How every Bulkhead Lambda is bundled: esbuild on this machine (never Docker), for the
 * nodejs22.x runtime, minified with source maps. The AWS SDK v3 ships in the runtime and
 * is left out of the bundle. esbuild reports warnings and errors only (no size table on
 * every synth).
 */
export function lambdaBundling(): nodejs.BundlingOptions {
  return {
    target: 'node22',
    minify: true,
    sourceMap: true,
    forceDockerBundling: false,
    externalModules: ['@aws-sdk/*'],
    logLevel: nodejs.LogLevel.WARNING,
  };
}
