import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { motoEndpoint } from '../support/moto/endpoint';
import { FIDELITY_ROWS } from './support/fidelity-rows';
import { onModel, onMoto } from './support/fidelity-targets';

/**
 * The model's fidelity (test/support/aws-model/FIDELITY.md): every behaviour of AWS the
 * product relies on, run against the project's model and against moto. The model must give
 * what the AWS documentation says (each row quotes it); moto must too, unless the row records
 * the disagreement as a decided moto gap, and then it must give exactly what was recorded (so
 * a moto upgrade that fixes or changes it is noticed). An unrecorded disagreement fails.
 */

describe.each(FIDELITY_ROWS.map((row) => [row.id, row] as const))('%s', (_id, row) => {
  it('the model behaves as AWS documents', async () => {
    // Prepare / Act
    const observed = await onModel((target) => row.run(target));
    // Assess
    expect(observed, `${row.api}: "${row.source.quote}"`).toEqual(row.aws);
  });

  it(row.motoGap ? `moto differs as recorded (${row.motoGap.note})` : 'moto behaves as AWS documents', async () => {
    // Prepare
    const endpoint = motoEndpoint();
    // Act
    const observed = await onMoto(endpoint, (target) => row.run(target));
    // Assess
    expect(
      observed,
      row.motoGap
        ? `moto no longer differs as recorded for ${row.id}: update FIDELITY.md and test/emulator/README.md`
        : `moto and AWS (${row.source.url}) disagree on ${row.id}: decide who is right and record it in FIDELITY.md and fidelity-rows.ts`,
    ).toEqual(row.motoGap ? row.motoGap.observed : row.aws);
  });
});

describe('FIDELITY.md', () => {
  it('has every row, its verdict and the AWS sentence that decides it', () => {
    // Prepare
    const doc = readFileSync('test/support/aws-model/FIDELITY.md', 'utf8').replace(/\s+/g, ' ');
    // Act
    const missing = FIDELITY_ROWS.flatMap((row) => {
      const problems: string[] = [];
      if (!doc.includes(`\`${row.id}\``)) problems.push(`${row.id}: no row`);
      const quote = row.source.quote.replace(/\s+/g, ' ').slice(0, 80);
      if (!doc.includes(quote)) problems.push(`${row.id}: no quote "${quote}…"`);
      return problems;
    });
    // Assess
    expect(FIDELITY_ROWS.length).toBeGreaterThanOrEqual(6);
    expect(missing).toEqual([]);
  });
});
