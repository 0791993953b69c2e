import type { TestProject } from 'vitest/node';
import {
  MOTO_ENDPOINT_ENV,
  motoAnswers,
  motoMissingMessage,
  onPath,
  type StartedMoto,
  startMotoServer,
  waitForMoto,
} from './moto-server';

/**
 * vitest globalSetup of the `moto` project (test/emulator): finds moto through
 * BULKHEAD_MOTO_ENDPOINT, or starts `moto_server` on a free port on 127.0.0.1 and stops it
 * by its process id when the run ends. When there is no moto, it does not abort the run: the
 * emulator tests fail, each with the message saying how to install it (test/support/moto/endpoint.ts).
 */

declare module 'vitest' {
  export interface ProvidedContext {
    /** The moto server's endpoint, when there is one. */
    motoEndpoint: string;
    /** Why there is no moto server (the emulator tests fail with it). */
    motoProblem: string;
  }
}

export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  const given = process.env[MOTO_ENDPOINT_ENV];
  if (given) {
    const ok = await motoAnswers(given, 5_000);
    if (ok) project.provide('motoEndpoint', given);
    else project.provide('motoProblem', motoMissingMessage(`${MOTO_ENDPOINT_ENV}=${given} does not answer`));
    return undefined;
  }
  const executable = onPath('moto_server');
  if (!executable) {
    project.provide(
      'motoProblem',
      motoMissingMessage(`moto_server is not on PATH and ${MOTO_ENDPOINT_ENV} is not set`),
    );
    return undefined;
  }
  let started: StartedMoto | undefined;
  try {
    const server = await startMotoServer(executable);
    started = server;
    let exited: string | undefined;
    server.child.once('exit', (code, signal) => {
      exited = `exit code ${code ?? '-'}, signal ${signal ?? '-'}; its output is in ${server.logFile}`;
    });
    await waitForMoto(server.endpoint, 60_000, () => exited);
    project.provide('motoEndpoint', server.endpoint);
  } catch (error) {
    await started?.stop();
    project.provide('motoProblem', (error as Error).message);
    return undefined;
  }
  const server = started;
  return async () => {
    await server.stop();
  };
}
