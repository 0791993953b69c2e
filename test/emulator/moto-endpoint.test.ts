import { describe, expect, it } from 'vitest';
import { motoEndpoint } from '../support/moto/endpoint';
import { motoAnswers, motoMissingMessage, onPath } from '../support/moto/moto-server';

describe('the moto server of this run', () => {
  it('answers at the endpoint the run provides', async () => {
    // Prepare
    const endpoint = motoEndpoint();
    // Act
    const version = await fetch(new URL('/moto-api/data.json', endpoint));
    // Assess
    expect(endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$|^https?:\/\//);
    expect(version.ok).toBe(true);
    expect(await motoAnswers(endpoint)).toBe(true);
  });

  it('says how to install moto when it is missing', () => {
    // Prepare
    const emptyPath = '/nonexistent-bulkhead-path';
    // Act
    const found = onPath('moto_server', emptyPath);
    const message = motoMissingMessage('moto_server is not on PATH');
    // Assess
    expect(found).toBeUndefined();
    expect(message).toContain('pip install "moto[server]"');
    expect(message).toContain('BULKHEAD_MOTO_ENDPOINT');
  });
});
