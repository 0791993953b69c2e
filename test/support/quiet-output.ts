/**
 * Quiet test output, without hiding anything a test reads:
 * - aws-cdk-lib writes "Bundling asset <path>..." to stderr each time it bundles a Lambda
 *   function (core/lib/asset-staging.js), which every synthesis in the suite does;
 * - the handlers write their metrics (CloudWatch embedded metric format, `{"_aws":…}`) and
 *   their structured logs (Powertools, `{"level":…}`) to stdout and stderr; fault tests make them log
 *   errors on purpose.
 * Only those lines are dropped, and only from the terminal: tests that read logs wrap
 * `process.stdout.write` after this file runs and still see every line.
 * `BULKHEAD_TEST_LOGS=1 npx vitest run …` shows them all.
 */
const BUNDLING_LINE = /^Bundling asset [\w/.-]+\.\.\.\r?\n$/;
const HANDLER_OUTPUT = /^\{"(_aws|level)":/;

function filtered(stream: NodeJS.WriteStream, drop: (line: string) => boolean): void {
  const write = stream.write.bind(stream);
  stream.write = ((chunk: unknown, ...rest: unknown[]) => {
    if (typeof chunk === 'string' && drop(chunk)) return true;
    return (write as (...args: unknown[]) => boolean)(chunk, ...rest);
  }) as typeof stream.write;
}

if (process.env.BULKHEAD_TEST_LOGS !== '1') {
  filtered(process.stderr, (line) => BUNDLING_LINE.test(line) || HANDLER_OUTPUT.test(line));
  filtered(process.stdout, (line) => HANDLER_OUTPUT.test(line));
}
