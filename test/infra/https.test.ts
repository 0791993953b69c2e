import { parse, stringify } from 'yaml';
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseFleet } from '../../infra/config/load-fleet';
import { StackName } from '../../contracts/names';
import { type CfnTemplate, type SynthesizedFleet, synthExample, synthFleet } from '../support/synth-fleet';
import { resourcesOfType } from '../support/template-queries';

/**
 * Issue 12, item 7: HTTPS from the first deploy. Each cell's HTTPS listener has a default
 * certificate of its own and never changes; each site brings its certificate (ACM, validated
 * by DNS, or an ARN from the fleet file) through SNI from its own stack
 * (AWS::ElasticLoadBalancingV2::ListenerCertificate: "Specifies an SSL server certificate to
 * add to the certificate list for an HTTPS or TLS listener"); HTTP redirects to HTTPS.
 */

let synth: SynthesizedFleet;
beforeAll(() => {
  synth = synthExample();
});

/** Whether `name` is covered by certificate name `pattern` (a leading `*.` covers one label). */
function covers(pattern: string, name: string): boolean {
  if (pattern === name) return true;
  if (pattern.startsWith('*.')) {
    const rest = name.split('.').slice(1).join('.');
    return !name.startsWith('*.') && rest === pattern.slice(2);
  }
  return false;
}

describe('each cell listens on HTTPS', () => {
  it('with its default certificate, the recommended TLS policy and a 404 for unknown hosts; HTTP only redirects', () => {
    for (const cell of synth.fleet.cells) {
      // Prepare
      const template = synth.json.get(StackName.cell('example', cell.id)) as CfnTemplate;
      // Act
      const listeners = resourcesOfType(template, 'AWS::ElasticLoadBalancingV2::Listener').map(
        ([, l]) => l.Properties ?? {},
      );
      const https = listeners.find((l) => l.Protocol === 'HTTPS');
      const http = listeners.find((l) => l.Protocol === 'HTTP');
      // Assess
      expect(listeners).toHaveLength(2);
      expect(https).toMatchObject({ Port: 443, Certificates: [{ CertificateArn: cell.certificateArn }] });
      expect(JSON.stringify(https?.DefaultActions)).toContain('fixed-response');
      expect(http?.DefaultActions).toEqual([
        {
          Type: 'redirect',
          RedirectConfig: expect.objectContaining({ Protocol: 'HTTPS', Port: '443', StatusCode: 'HTTP_301' }),
        },
      ]);
    }
  });
});

describe('each site brings its own certificate by SNI', () => {
  it('every domain of every site is covered by its certificate, attached to its cell’s HTTPS listener from its own stack', () => {
    for (const site of synth.fleet.sites) {
      // Prepare
      const template = synth.siteJson(site.id);
      // Act
      const certificates = resourcesOfType(template, 'AWS::CertificateManager::Certificate').map(([id, c]) => ({
        id,
        names: [c.Properties?.DomainName, ...((c.Properties?.SubjectAlternativeNames as string[]) ?? [])] as string[],
        validation: c.Properties?.ValidationMethod,
      }));
      const attached = resourcesOfType(template, 'AWS::ElasticLoadBalancingV2::ListenerCertificate').map(
        ([, a]) => a.Properties ?? {},
      );
      // Assess
      expect(certificates, site.id).toHaveLength(1);
      const [certificate] = certificates;
      expect(certificate?.validation).toBe('DNS');
      for (const domain of site.domains) {
        expect(
          certificate?.names.some((n) => covers(n, domain)),
          `${site.id} ${domain}`,
        ).toBe(true);
      }
      expect(attached).toEqual([
        {
          ListenerArn: { 'Fn::ImportValue': `bulkhead-example-cell-${site.cell}-listener-arn` },
          Certificates: [{ CertificateArn: { Ref: certificate?.id } }],
        },
      ]);
    }
  });

  it('a site given a certificate ARN in the fleet file attaches that one and requests none', () => {
    // Prepare
    const file = parse(readFileSync('config/example.yaml', 'utf8')) as { sites: Record<string, unknown>[] };
    const arn = 'arn:aws:acm:eu-west-1:111122223333:certificate/0b6c1f2e-3d4a-4b5c-9d8e-7f6a5b4c3d2e';
    (file.sites[1] as Record<string, unknown>).certificateArn = arn;
    const fleet = parseFleet(stringify(file), 'config/example.yaml');
    // Act
    const template = synthFleet(fleet, { nag: false, cloudFormationValidation: false }).siteJson('bakery');
    // Assess
    expect(resourcesOfType(template, 'AWS::CertificateManager::Certificate')).toEqual([]);
    expect(
      resourcesOfType(template, 'AWS::ElasticLoadBalancingV2::ListenerCertificate').map(
        ([, a]) => a.Properties?.Certificates,
      ),
    ).toEqual([[{ CertificateArn: arn }]]);
  });
});

describe('sites come and go without touching anything else', () => {
  it('adding a site changes no other stack’s template but its own cell’s AWS WAF rules', () => {
    // Prepare
    const file = parse(readFileSync('config/example.yaml', 'utf8')) as { sites: Record<string, unknown>[] };
    const more = structuredClone(file);
    more.sites.push({
      id: 'florist',
      cell: 'blue',
      domains: ['florist.example'],
      image: {
        repository: '111122223333.dkr.ecr.eu-west-1.amazonaws.com/sites/florist',
        digest: `sha256:${'c'.repeat(64)}`,
      },
      contact: 'owner@florist.example',
    });
    // Act
    const before = synthFleet(parseFleet(stringify(file), 'a.yaml'), {
      nag: false,
      cloudFormationValidation: false,
    }).json;
    const after = synthFleet(parseFleet(stringify(more), 'a.yaml'), {
      nag: false,
      cloudFormationValidation: false,
    }).json;
    // Assess
    expect([...after.keys()].filter((k) => !before.has(k))).toEqual([StackName.site('example', 'florist')]);
    const changed = [...before.keys()].filter((k) => JSON.stringify(before.get(k)) !== JSON.stringify(after.get(k)));
    // Issue 15, item 4: a site's WAF rules (its label, its rate-based rule) can only live in its
    // cell's web ACL and the rule groups it references: a load balancer takes one web ACL, and rules
    // are properties of the web ACL or rule group resource (AWS::WAFv2::WebACL Rules,
    // AWS::WAFv2::RuleGroup Rules). Nothing else of the cell, and no other stack, changes.
    // Issue 11, item 7: containment's reserved concurrency is sized from the fleet (2 x sites + 10),
    // so the response stack changes too: that one property of that one function, nothing else.
    expect(changed).toEqual([StackName.cell('example', 'blue'), StackName.response('example')]);
    const responseBefore = before.get(StackName.response('example'))?.Resources ?? {};
    const responseAfter = after.get(StackName.response('example'))?.Resources ?? {};
    const responseChanges = Object.keys(responseAfter).filter(
      (id) => JSON.stringify(responseBefore[id]) !== JSON.stringify(responseAfter[id]),
    );
    expect(responseChanges.map((id) => responseAfter[id]?.Type)).toEqual(['AWS::Lambda::Function']);
    const [fn] = responseChanges;
    const concurrency = (id: string, resources: typeof responseAfter) =>
      resources[id]?.Properties?.ReservedConcurrentExecutions;
    expect([concurrency(fn as string, responseBefore), concurrency(fn as string, responseAfter)]).toEqual([18, 20]);
    const withoutConcurrency = (resource: unknown) =>
      JSON.stringify(resource, (key, value: unknown) => (key === 'ReservedConcurrentExecutions' ? undefined : value));
    expect(withoutConcurrency(responseAfter[fn as string])).toBe(withoutConcurrency(responseBefore[fn as string]));
    const cellBefore = before.get(StackName.cell('example', 'blue'))?.Resources ?? {};
    const cellAfter = after.get(StackName.cell('example', 'blue'))?.Resources ?? {};
    const changedResources = [...new Set([...Object.keys(cellBefore), ...Object.keys(cellAfter)])].filter(
      (id) => JSON.stringify(cellBefore[id]) !== JSON.stringify(cellAfter[id]),
    );
    expect(changedResources.length).toBeGreaterThan(0);
    expect(
      changedResources
        .map((id) => (cellAfter[id] ?? cellBefore[id])?.Type)
        .filter((t) => !t?.startsWith('AWS::WAFv2::')),
    ).toEqual([]);
  });
});
