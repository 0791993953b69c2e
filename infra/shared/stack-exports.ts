import { CfnOutput, Fn, Stack } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import {
  CellExport,
  type CellExportKey,
  cellExportName,
  cellVpcExportName,
  PlatformExport,
  type PlatformExportKey,
  platformExportName,
  type SiteVpcExportKey,
} from '../../contracts/names';

/**
 * How stacks publish and read the platform contract (contracts/names.ts): CloudFormation
 * exports and imports, and the stack-instance suffix of retained resources' names.
 */

/** Reads a platform export (`Fn::ImportValue`). */
export function importPlatform(environment: string, key: PlatformExportKey): string {
  return Fn.importValue(platformExportName(environment, key));
}

/** Reads a cell export (`Fn::ImportValue`). */
export function importCell(environment: string, cell: string, key: CellExportKey): string {
  return Fn.importValue(cellExportName(environment, cell, key));
}

/** Reads a value of the VPC a cell's sites run in: the cell's own (`cellVpc`), or the platform's. */
export function importSiteVpc(environment: string, cellVpc: string | undefined, key: SiteVpcExportKey): string {
  return cellVpc === undefined
    ? importPlatform(environment, key)
    : Fn.importValue(cellVpcExportName(environment, cellVpc, key));
}

/** Imports a comma-joined list export of a site VPC as `count` tokens. */
export function importSiteVpcList(
  environment: string,
  cellVpc: string | undefined,
  key: SiteVpcExportKey,
  count: number,
): string[] {
  return Fn.split(',', importSiteVpc(environment, cellVpc, key), count);
}

/** Publishes a cell VPC's values under their contract export names. */
export function exportCellVpcValues(
  scope: Construct,
  environment: string,
  cell: string,
  values: Partial<Record<SiteVpcExportKey, string>>,
): void {
  for (const [key, value] of Object.entries(values) as [SiteVpcExportKey, string][]) {
    new CfnOutput(scope, `Export-${PlatformExport[key]}`, {
      value,
      exportName: cellVpcExportName(environment, cell, key),
    });
  }
}

/** Imports a comma-joined list export as `count` tokens. */
export function importPlatformList(environment: string, key: PlatformExportKey, count: number): string[] {
  return Fn.split(',', importPlatform(environment, key), count);
}

/**
 * The last group of the stack's id (12 hex digits), new each time a stack of that name is
 * created: "AWS::StackId: Returns the ID of the stack" (CloudFormation pseudo parameters), an
 * ARN ending in `stack/<name>/<uuid>`. Names of retained resources carry it, so deleting a
 * stack and deploying it again never meets its own leftovers ("already exists").
 */
export function stackInstanceSuffix(scope: Construct): string {
  return Fn.select(4, Fn.split('-', Fn.select(2, Fn.split('/', Stack.of(scope).stackId))));
}

/** Publishes platform values under their contract export names (construct ids `Export-<name>`). */
export function exportPlatformValues(
  scope: Construct,
  environment: string,
  values: Partial<Record<PlatformExportKey, string>>,
): void {
  for (const [key, value] of Object.entries(values) as [PlatformExportKey, string][]) {
    new CfnOutput(scope, `Export-${PlatformExport[key]}`, { value, exportName: platformExportName(environment, key) });
  }
}

/** Publishes a cell's values under their contract export names. */
export function exportCellValues(
  scope: Construct,
  environment: string,
  cell: string,
  values: Record<CellExportKey, string>,
): void {
  for (const [key, value] of Object.entries(values) as [CellExportKey, string][]) {
    new CfnOutput(scope, `Export-${CellExport[key]}`, { value, exportName: cellExportName(environment, cell, key) });
  }
}
