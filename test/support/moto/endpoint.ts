import { inject } from 'vitest';
import { motoMissingMessage } from './moto-server';

/**
 * The moto endpoint of this test run (from the `moto` project's globalSetup). Throws, naming
 * how to install moto, when there is none: emulator tests fail rather than skip.
 */
export function motoEndpoint(): string {
  const endpoint = inject('motoEndpoint');
  if (endpoint) return endpoint;
  throw new Error(
    inject('motoProblem') ??
      motoMissingMessage(
        'no moto server was started for this run (is the test in the `moto` project of vitest.config.mts?)',
      ),
  );
}
