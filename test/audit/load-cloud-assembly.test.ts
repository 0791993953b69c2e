import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { AuditInputError, loadCloudAssembly } from '../../tools/audit';

function scratch(): string {
  return mkdtempSync(path.join(tmpdir(), 'bulkhead-audit-input-'));
}

function inputError(dir: string): AuditInputError {
  try {
    loadCloudAssembly(dir);
  } catch (error) {
    if (error instanceof AuditInputError) return error;
    throw error;
  }
  throw new Error(`loadCloudAssembly(${dir}) did not fail`);
}

describe('loadCloudAssembly', () => {
  it('names a missing directory and says to synthesize first', () => {
    // Prepare
    const dir = path.join(scratch(), 'cdk.out');

    // Act
    const error = inputError(dir);

    // Assess
    expect(error.name).toBe('AuditInputError');
    expect(error.directory).toBe(dir);
    expect(error.message).toContain(dir);
    expect(error.message).toContain('does not exist');
    expect(error.message).toContain('run `npx cdk synth` or `npm start` first');
  });

  it('refuses a directory without manifest.json', () => {
    // Prepare
    const dir = scratch();

    // Act
    const error = inputError(dir);

    // Assess
    expect(error.message).toContain(path.join(dir, 'manifest.json'));
    expect(error.message).toContain('cannot be read (ENOENT)');
    expect(error.message).toContain('npx cdk synth');
  });

  it('refuses a manifest that is not JSON, or not a cloud assembly manifest', () => {
    // Prepare
    const broken = scratch();
    writeFileSync(path.join(broken, 'manifest.json'), '{"artifacts": ');
    const foreign = scratch();
    writeFileSync(path.join(foreign, 'manifest.json'), '{"name": "something else"}');

    // Act
    const notJson = inputError(broken);
    const notManifest = inputError(foreign);

    // Assess
    expect(notJson.message).toContain('is not valid JSON');
    expect(notJson.message).toContain(path.join(broken, 'manifest.json'));
    expect(notManifest.message).toContain('has no "artifacts"');
  });

  it('names a stack whose template is missing or malformed', () => {
    // Prepare
    const missing = scratch();
    writeFileSync(
      path.join(missing, 'manifest.json'),
      JSON.stringify({
        artifacts: {
          'Bulkhead-x-Site-a': { type: 'aws:cloudformation:stack', properties: { templateFile: 'a.json' } },
        },
      }),
    );
    const malformed = scratch();
    writeFileSync(
      path.join(malformed, 'manifest.json'),
      JSON.stringify({
        artifacts: {
          'Bulkhead-x-Site-b': { type: 'aws:cloudformation:stack', properties: { templateFile: 'b.json' } },
        },
      }),
    );
    writeFileSync(path.join(malformed, 'b.json'), '[1, 2]');

    // Act
    const noTemplate = inputError(missing);
    const badTemplate = inputError(malformed);

    // Assess
    expect(noTemplate.message).toContain('Bulkhead-x-Site-a');
    expect(noTemplate.message).toContain(path.join(missing, 'a.json'));
    expect(badTemplate.message).toContain('Bulkhead-x-Site-b');
    expect(badTemplate.message).toContain('is not a JSON object');
  });

  it('refuses an assembly with no stack, and a file given as the directory', () => {
    // Prepare
    const empty = scratch();
    writeFileSync(path.join(empty, 'manifest.json'), JSON.stringify({ artifacts: {} }));
    const file = path.join(scratch(), 'manifest.json');
    writeFileSync(file, '{}');

    // Act + Assess
    expect(inputError(empty).message).toContain('holds no CloudFormation stack');
    expect(inputError(file).message).toContain('is not a directory');
  });

  it('reads stacks of nested assemblies with their environment', () => {
    // Prepare
    const dir = scratch();
    mkdirSync(path.join(dir, 'assembly-Prod'));
    writeFileSync(
      path.join(dir, 'manifest.json'),
      JSON.stringify({
        artifacts: { Prod: { type: 'cdk:cloud-assembly', properties: { directoryName: 'assembly-Prod' } } },
      }),
    );
    writeFileSync(
      path.join(dir, 'assembly-Prod', 'manifest.json'),
      JSON.stringify({
        artifacts: {
          ProdSiteA: {
            type: 'aws:cloudformation:stack',
            environment: 'aws://111122223333/eu-west-1',
            properties: { templateFile: 'ProdSiteA.template.json', stackName: 'Bulkhead-prod-Site-a' },
          },
        },
      }),
    );
    writeFileSync(path.join(dir, 'assembly-Prod', 'ProdSiteA.template.json'), JSON.stringify({ Resources: {} }));

    // Act
    const assembly = loadCloudAssembly(dir);

    // Assess
    expect(assembly.stacks).toEqual([
      expect.objectContaining({
        name: 'Bulkhead-prod-Site-a',
        artifactId: 'ProdSiteA',
        account: '111122223333',
        region: 'eu-west-1',
        templateFile: path.join('assembly-Prod', 'ProdSiteA.template.json'),
      }),
    ]);
  });
});
