// The Lambda runtime's part, for the emulator tests: loads a function's bundled code (the
// asset folder `cdk synth` wrote) in a fresh Node process, as a cold start, runs one
// invocation and hands the answer back over IPC. The parent (lambda-runtime.ts) sets the
// environment Lambda would: the function's variables, its role's credentials, its region.
import { createRequire } from 'node:module';
import * as path from 'node:path';

process.once('message', async (message) => {
  const { codeDirectory, handler, event, context } = message;
  const dot = handler.lastIndexOf('.');
  const file = handler.slice(0, dot);
  const name = handler.slice(dot + 1);
  const deadline = Date.now() + context.timeoutMs;
  const reply = (answer) => process.send(answer, () => process.exit(0));
  try {
    const load = createRequire(path.join(codeDirectory, 'index.js'));
    const module = load(path.join(codeDirectory, `${file}.js`));
    const fn = module[name];
    if (typeof fn !== 'function') throw new Error(`${handler} is not a function in ${codeDirectory}`);
    const result = await fn(event, {
      ...context,
      callbackWaitsForEmptyEventLoop: true,
      getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
      done() {},
      fail() {},
      succeed() {},
    });
    reply({ ok: true, result: result === undefined ? null : result });
  } catch (error) {
    reply({
      ok: false,
      error: { errorType: error?.name ?? 'Error', errorMessage: String(error?.message ?? error), stack: error?.stack },
    });
  }
});
