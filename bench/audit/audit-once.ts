/**
 * One measured audit, in its own process (as `siteops audit` runs it: the Service
 * Authorization Reference and the managed-policy data are read cold). Prints one JSON line.
 *   tsx bench/audit/audit-once.ts <cdk.out>
 */
import { auditAssembly, loadCloudAssembly, renderAuditHtml } from '../../tools/audit';

const [dir] = process.argv.slice(2);
if (!dir) {
  console.error('usage: audit-once.ts <cdk.out>');
  process.exit(2);
}
const t0 = performance.now();
const assembly = loadCloudAssembly(dir);
const t1 = performance.now();
const cpu = process.cpuUsage();
const result = auditAssembly(assembly);
const cpuUsed = process.cpuUsage(cpu);
const t2 = performance.now();
const html = renderAuditHtml(result);
const t3 = performance.now();
// A second audit of the same assembly: what a warm process (tests, npm start) pays.
const warm = auditAssembly(assembly);
const t4 = performance.now();
console.log(
  JSON.stringify({
    sites: result.sites.length,
    stacks: assembly.stacks.length,
    resources: result.statistics.resources,
    pairs: result.pairsChecked,
    findings: result.findings.length + warm.findings.length - result.findings.length,
    passed: result.passed,
    loadMs: t1 - t0,
    auditMs: t2 - t1,
    // CPU time of the audit: what it costs on a machine that is not shared.
    auditCpuMs: (cpuUsed.user + cpuUsed.system) / 1000,
    warmAuditMs: t4 - t3,
    htmlMs: t3 - t2,
    htmlKb: Buffer.byteLength(html) / 1024,
    maxRssMb: process.resourceUsage().maxRSS / 1024,
  }),
);
