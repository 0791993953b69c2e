import { beforeAll, describe, expect, it } from 'vitest';
import { auditAssembly, type CloudAssembly, renderAuditHtml } from '../../tools/audit';
import { exampleAssembly, type MutableTemplate, mutated, resourceOf, siteStackName } from './audit-support';

let assembly: CloudAssembly;
beforeAll(() => {
  assembly = exampleAssembly();
});

const HOSTILE_SITE = '<script>alert(1)</script>';
const HOSTILE_DESCRIPTION = '"><img src=x onerror=alert(2)>';

/** bakery, renamed (by its tags) to a script tag, admits acme-shop on 443 with a hostile description. */
function hostileAssembly(): CloudAssembly {
  const retag = (t: MutableTemplate) => {
    for (const resource of Object.values(t.Resources)) {
      const tags = (resource.Properties?.Tags ?? resource.Properties?.AccessPointTags) as
        { Key: string; Value: unknown }[] | Record<string, unknown> | undefined;
      if (Array.isArray(tags)) {
        for (const tag of tags) if (tag.Key === 'bulkhead:site') tag.Value = HOSTILE_SITE;
      } else if (tags && 'bulkhead:site' in tags) {
        tags['bulkhead:site'] = HOSTILE_SITE;
      }
    }
  };
  return mutated(assembly, {
    [siteStackName('acme-shop')]: (t) => {
      const group = resourceOf(t, 'AWS::EC2::SecurityGroup', 'site-sg').id;
      t.Outputs = { ...t.Outputs, G: { Value: { 'Fn::GetAtt': [group, 'GroupId'] }, Export: { Name: 'acme-sg' } } };
    },
    [siteStackName('bakery')]: (t) => {
      const group = resourceOf(t, 'AWS::EC2::SecurityGroup', 'site-sg').id;
      retag(t);
      t.Resources.Hostile = {
        Type: 'AWS::EC2::SecurityGroupIngress',
        Properties: {
          GroupId: { 'Fn::GetAtt': [group, 'GroupId'] },
          IpProtocol: 'tcp',
          FromPort: 443,
          ToPort: 443,
          SourceSecurityGroupId: { 'Fn::ImportValue': 'acme-sg' },
          Description: HOSTILE_DESCRIPTION,
        },
      };
    },
  });
}

describe('HTML report', () => {
  it('escapes site ids and rule descriptions that come from templates', () => {
    // Prepare
    const result = auditAssembly(hostileAssembly());

    // Act
    const html = renderAuditHtml(result);

    // Assess: the hostile strings are in the report (the finding is there), never as markup.
    expect(result.sites.map((s) => s.id)).toContain(HOSTILE_SITE);
    expect(result.findings).toHaveLength(1);
    expect(html).not.toContain(HOSTILE_SITE);
    expect(html).not.toContain('<img');
    expect(html).not.toMatch(/<script/i);
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).toContain('&quot;&gt;&lt;img src=x onerror=alert(2)&gt;');
  });

  it('marks the pair with a path red, links it to its rules and keeps every other pair green', () => {
    // Prepare
    const result = auditAssembly(hostileAssembly());
    const n = result.sites.length;

    // Act
    const html = renderAuditHtml(result);

    // Assess: row acme-shop (0), column bakery (1).
    expect(html.match(/<td class="bad"/g)).toHaveLength(1);
    expect(html.match(/<td class="ok"/g)).toHaveLength(n * (n - 1) - 1);
    expect(html).toContain('<a href="#pair-0-1">1</a>');
    expect(html).toContain('<article id="pair-0-1">');
    expect(html).toContain('1 path between sites (1 of 12 pairs)');
  });

  it('stays one self-contained page for a large fleet: sticky headers, small cells, titles only where useful', () => {
    // Prepare: 200 sites, no findings (the renderer needs only the result).
    const base = auditAssembly(assembly);
    const sites = Array.from({ length: 200 }, (_, i) => ({
      id: `site-${i}`,
      stack: `Bulkhead-x-Site-site-${i}`,
      isolation: 'standard' as const,
    }));
    const pairs = sites.flatMap((a) =>
      sites.filter((b) => b !== a).map((b) => ({ from: a.id, to: b.id, ok: true, findings: [] })),
    );
    const large = { ...base, sites, pairs, pairsChecked: pairs.length };

    // Act
    const html = renderAuditHtml(large);

    // Assess
    expect(html.match(/<td class="ok"><\/td>/g)).toHaveLength(200 * 199);
    expect(html).toContain('table.matrix td{width:10px');
    expect(html).toMatch(/thead th\{position:sticky;top:0/);
    expect(html.length).toBeLessThan(3_000_000);
  });
});
