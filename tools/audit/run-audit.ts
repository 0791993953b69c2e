/** Load, audit, write the HTML report: what `siteops audit` and `npm start` call. */
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { auditAssembly } from './audit';
import { loadCloudAssembly } from './cloud-assembly';
import { readProvenance } from '../../infra/shared/provenance';
import { renderAuditHtml } from './html-report';
import type { AuditResult } from './types';

export interface RunAuditOptions {
  /** The cloud assembly directory (`cdk.out`). */
  readonly cdkOut: string;
  /** Where to write the HTML report; none is written when absent. */
  readonly htmlOut?: string;
}

export function runAudit(options: RunAuditOptions): AuditResult {
  const audited = auditAssembly(loadCloudAssembly(options.cdkOut));
  const provenance = readProvenance(options.cdkOut);
  const result: AuditResult = provenance ? { ...audited, provenance } : audited;
  if (options.htmlOut) {
    mkdirSync(path.dirname(path.resolve(options.htmlOut)), { recursive: true });
    writeFileSync(options.htmlOut, renderAuditHtml(result));
  }
  return result;
}
