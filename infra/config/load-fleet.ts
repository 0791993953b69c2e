import { readFileSync } from 'node:fs';
import { isMap, LineCounter, parseDocument, visit } from 'yaml';
import type { z } from 'zod';
import { connectionBudget, connectionBudgetProblem } from './database-budget';
import { describeFargateMemory, isFargateSize } from './fargate';
import {
  ECR_REPOSITORY_PATTERN,
  type FleetFile,
  fleetSchema,
  LIMITS,
  type ResponsePolicy,
  type SiteEntry,
} from './fleet-schema';
import {
  cidrsOverlap,
  intToIpv4,
  ipv4ToInt,
  type NetworkLayout,
  networkLayout,
  strictSubnetCidrs,
  usableSubnetAddresses,
} from './network-layout';
import { firstFree, stableSlot } from './slots';

/** One thing wrong with a fleet file, located as precisely as we can. */
export interface FleetProblem {
  /** Path inside the file, such as `sites[2].image.digest`. */
  readonly path: string;
  readonly message: string;
  readonly line?: number;
  readonly column?: number;
}

/** A fleet file that cannot be built. Nothing is synthesized when this is thrown. */
export class FleetConfigError extends Error {
  override readonly name = 'FleetConfigError';
  constructor(
    readonly file: string,
    readonly problems: readonly FleetProblem[],
    options?: { cause?: unknown },
  ) {
    super(
      `${file}: ${problems.length} problem${problems.length === 1 ? '' : 's'} in the fleet file; nothing was built.\n${problems
        .map((p) => `  ${file}${p.line ? `:${p.line}:${p.column ?? 1}` : ''}  ${p.path || '(top level)'}: ${p.message}`)
        .join('\n')}`,
      options,
    );
  }
}

export interface ResponseSettings {
  readonly policy: ResponsePolicy;
  readonly severityThreshold: number;
  readonly forensicHoldMinutes: number;
  readonly autoRestore: boolean;
  readonly approvalTimeoutHours: number;
}

/** A site with every default applied and every derived value computed. */
export interface SiteConfig {
  readonly id: string;
  readonly cell: string;
  readonly domains: readonly string[];
  readonly image: {
    readonly repository: string;
    readonly digest: string;
    /** `repository@digest`, what the task definition runs. */
    readonly uri: string;
    readonly repositoryAccount: string;
    readonly repositoryRegion: string;
    readonly repositoryName: string;
  };
  readonly cpu: number;
  readonly memory: number;
  readonly desiredCount: number;
  readonly internetEgress: boolean;
  readonly isolation: 'standard' | 'strict';
  readonly contact: string;
  readonly response: ResponseSettings;
  readonly alarms: {
    readonly errorRatePercent: number;
    readonly egressBytesPerMinute: number;
    readonly rejectedConnectionsPerFiveMinutes: number;
  };
  readonly healthCheckPath: string;
  /** The container's user: a numeric `uid` or `uid:gid`, never root (default `33:33`). */
  readonly runAsUser: string;
  /** AWS WAF for this site on its cell's load balancer: block (or only count) and its rate limit per IP. */
  readonly firewall: { readonly mode: 'block' | 'count'; readonly requestsPerFiveMinutes: number };
  readonly listenerPriority: number;
  readonly uploadsPosixId: number;
  /** An ACM certificate for its domains; without one the site's stack requests one (DNS validation). */
  readonly certificateArn?: string;
  /** Which block of the VPC's site range holds its own subnets (`subnetSlot`, or derived from the id). */
  readonly subnetSlot: number;
  /** The CIDR blocks of its own subnets, one per AZ (every site has them: docs/network.md). */
  readonly subnetCidrs: readonly string[];
  readonly database: {
    /** Schema (database) name: `wp_` + id with `-` as `_`. */
    readonly schema: string;
    /** Database user name: `site_` + id with `-` as `_`. */
    readonly user: string;
  };
}

export interface CellConfig {
  readonly id: string;
  readonly certificateArn?: string;
  readonly siteIds: readonly string[];
  /**
   * The layout of the cell's own VPC (`cells[].network.cidr`; docs/network.md, "A VPC per
   * cell"). Absent: the cell and its sites run in the platform VPC (`FleetConfig.network`).
   */
  readonly network?: NetworkLayout;
}

export interface FleetConfig {
  /** The file this fleet came from (as given). */
  readonly source: string;
  readonly environment: string;
  readonly account?: string;
  readonly region?: string;
  readonly network: NetworkLayout;
  readonly containerPort: number;
  readonly cellSize: number;
  readonly cells: readonly CellConfig[];
  readonly database: {
    readonly instanceClass: string;
    readonly readers: number;
    readonly engineVersion: string;
    readonly maxConnectionsPerSite: number;
    readonly backupRetentionDays: number;
  };
  readonly operators: {
    readonly principals: readonly string[];
    readonly email?: string;
    /** The console API's integration timeout (default {@link DEFAULTS}.consoleTimeoutSeconds). */
    readonly consoleTimeoutSeconds: number;
  };
  readonly sites: readonly SiteConfig[];
  /** True when at least one site may reach the internet, so the VPC needs a NAT path. */
  readonly needsInternet: boolean;
}

export const DEFAULTS = {
  network: { cidr: '10.40.0.0/16', maxAzs: 2, strictSubnetPrefix: 26 },
  containerPort: 8080,
  cellSize: LIMITS.maxSitesPerCell,
  /** API Gateway's integration timeout without a quota increase: "50 milliseconds - 29 seconds". */
  consoleTimeoutSeconds: 29,
  database: {
    instanceClass: 'db.r6g.large',
    readers: 1,
    engineVersion: '8.0.mysql_aurora.3.08.2',
    maxConnectionsPerSite: 40,
    backupRetentionDays: 14,
  },
  site: {
    cpu: 512,
    memory: 1024,
    desiredCount: 2,
    internetEgress: false,
    isolation: 'standard' as const,
    healthCheckPath: '/',
    /** www-data in the Debian-based WordPress images. */
    runAsUser: '33:33',
    firewall: { mode: 'block' as const, requestsPerFiveMinutes: 2_000 },
    response: {
      policy: 'contain' as const,
      severityThreshold: 7,
      forensicHoldMinutes: 30,
      autoRestore: false,
      approvalTimeoutHours: 24,
    },
    // 20 refused attempts in 5 minutes: a site's own code almost never tries a connection its
    // group refuses (it only knows its database, endpoints and, with internetEgress, HTTPS), so
    // a few are a misconfiguration and a scan of the neighbours is hundreds (docs/network.md).
    alarms: { errorRatePercent: 5, egressBytesPerMinute: 50 * 1024 * 1024, rejectedConnectionsPerFiveMinutes: 20 },
  },
} as const;

/** Schema and user names for a site id; ids are validated so these are safe identifiers. */
export function databaseNames(siteId: string): { schema: string; user: string } {
  const sqlId = siteId.replaceAll('-', '_');
  return { schema: `wp_${sqlId}`, user: `site_${sqlId}` };
}

/** Reads, validates and resolves a fleet file. Throws FleetConfigError listing every problem. */
export function loadFleetFile(file: string): FleetConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new FleetConfigError(
      file,
      [
        {
          path: '',
          message: `cannot read the fleet file (${(error as Error).message}). Pass an existing file with -c fleet=<path> or -c env=<name> for config/<name>.yaml.`,
        },
      ],
      { cause: error },
    );
  }
  return parseFleet(text, file);
}

/** Validates fleet YAML text. `file` is only used in messages. */
export function parseFleet(text: string, file: string): FleetConfig {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new FleetConfigError(
      file,
      doc.errors.map((e) => {
        const pos = lineCounter.linePos(e.pos[0]);
        return {
          path: '',
          message: `not valid YAML: ${e.message.split('\n')[0]}`,
          line: pos.line,
          column: pos.col,
        };
      }),
    );
  }
  // An alias must name an anchor defined before it; yaml's toJS throws a bare ReferenceError.
  const aliasProblems: { path: string; message: string; line: number; column: number }[] = [];
  visit(doc, {
    Alias(_key, node) {
      if (node.resolve(doc) === undefined) {
        const pos = lineCounter.linePos(node.range?.[0] ?? 0);
        aliasProblems.push({
          path: '',
          message: `not valid YAML: alias *${node.source} names no anchor &${node.source} defined before it`,
          line: pos.line,
          column: pos.col,
        });
      }
    },
  });
  if (aliasProblems.length > 0) throw new FleetConfigError(file, aliasProblems);
  let raw: unknown;
  try {
    // A fleet file needs few aliases; many is an alias bomb (exponential expansion).
    raw = doc.toJS({ maxAliasCount: 1000 });
  } catch (error) {
    throw new FleetConfigError(
      file,
      [{ path: '', message: `cannot read the YAML: ${(error as Error).message}`, line: 1, column: 1 }],
      { cause: error },
    );
  }
  const locate = (path: readonly PropertyKey[], key?: string): { line?: number; column?: number } => {
    let node: unknown = doc.getIn(path as unknown[], true);
    if (key !== undefined && isMap(node)) {
      const pair = node.items.find((item) => (item.key as { value?: unknown })?.value === key);
      node = pair?.key;
    }
    for (let depth = path.length; (node === undefined || node === null) && depth > 0; depth--) {
      node = doc.getIn(path.slice(0, depth - 1) as unknown[], true);
    }
    // A node yaml cannot point at (a complex key, say) is reported at its document's start.
    const range =
      (node as { range?: [number, number, number] } | undefined)?.range ??
      (doc.contents as { range?: [number, number, number] } | null)?.range;
    if (!range) return {};
    const pos = lineCounter.linePos(range[0]);
    return { line: pos.line, column: pos.col };
  };
  const problem = (path: readonly PropertyKey[], message: string, key?: string): FleetProblem => ({
    path: formatPath(key === undefined ? path : [...path, key]),
    message,
    ...locate(path, key),
  });

  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new FleetConfigError(file, [
      {
        path: '',
        message:
          'the fleet file must be a YAML mapping with environment, operators and sites (see config/example.yaml)',
      },
    ]);
  }
  const parsed = fleetSchema.safeParse(raw);
  if (!parsed.success) {
    throw new FleetConfigError(
      file,
      parsed.error.issues.flatMap((issue) => describeIssue(issue, problem)),
    );
  }
  const problems: FleetProblem[] = [];
  const fleet = resolveFleet(parsed.data, file, (path, message, key) => problems.push(problem(path, message, key)));
  if (problems.length > 0) throw new FleetConfigError(file, problems);
  return fleet as FleetConfig;
}

type Report = (path: readonly PropertyKey[], message: string, key?: string) => void;

function describeIssue(
  issue: z.core.$ZodIssue,
  problem: (path: readonly PropertyKey[], message: string, key?: string) => FleetProblem,
): FleetProblem[] {
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) =>
      problem(
        issue.path,
        `unknown key "${key}"${suggestKey(key, issue.path)}. Remove it or fix its spelling; unknown keys are refused so a typo never falls back to a default.`,
        key,
      ),
    );
  }
  if (issue.code === 'invalid_type' && issue.input === undefined) {
    const message = issue.message.startsWith('Invalid input') ? 'is required' : issue.message;
    return [problem(issue.path, message)];
  }
  return [problem(issue.path, issue.message)];
}

const KNOWN_KEYS = [
  'environment',
  'account',
  'region',
  'network',
  'containerPort',
  'cellSize',
  'cells',
  'database',
  'operators',
  'defaults',
  'sites',
  'id',
  'cell',
  'domains',
  'image',
  'repository',
  'digest',
  'contact',
  'cpu',
  'memory',
  'desiredCount',
  'internetEgress',
  'isolation',
  'response',
  'policy',
  'severityThreshold',
  'forensicHoldMinutes',
  'autoRestore',
  'approvalTimeoutHours',
  'alarms',
  'errorRatePercent',
  'egressBytesPerMinute',
  'rejectedConnectionsPerFiveMinutes',
  'healthCheckPath',
  'runAsUser',
  'firewall',
  'mode',
  'requestsPerFiveMinutes',
  'listenerPriority',
  'uploadsPosixId',
  'subnetSlot',
  'certificateArn',
  'cidr',
  'maxAzs',
  'strictSubnetPrefix',
  'availabilityZones',
  'instanceClass',
  'readers',
  'engineVersion',
  'maxConnectionsPerSite',
  'backupRetentionDays',
  'principals',
  'email',
  'consoleTimeoutSeconds',
];

function suggestKey(key: string, _path: readonly PropertyKey[]): string {
  const best = KNOWN_KEYS.map((k) => ({
    k,
    d: editDistance(k.toLowerCase(), key.toLowerCase()),
  })).sort((a, b) => a.d - b.d)[0];
  return best && best.d <= 2 ? ` (did you mean "${best.k}"?)` : '';
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0] as number;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j] as number;
      row[j] = Math.min((row[j] as number) + 1, (row[j - 1] as number) + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length] as number;
}

export function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>(
    (acc, part) => (typeof part === 'number' ? `${acc}[${part}]` : acc ? `${acc}.${String(part)}` : String(part)),
    '',
  );
}

function resolveFleet(file: FleetFile, source: string, report: Report): FleetConfig | undefined {
  const layout = resolvePlatformLayout(file, report);
  const cellNetworks = resolveCellNetworks(file, layout, report);
  const vpcKeyOf = (cellId: string) => (cellNetworks.has(cellId) ? cellId : PLATFORM_VPC);
  const layoutOf = (vpcKey: string) => cellNetworks.get(vpcKey) ?? layout;
  checkPlacement(file, layout, cellNetworks, vpcKeyOf, report);
  const defaults = file.defaults ?? {};
  const cellSize = file.cellSize ?? DEFAULTS.cellSize;
  const declaredCells = checkDeclaredCells(file, report);

  const siteIndexById = new Map<string, number>();
  const domainOwner = new Map<string, string>();
  const sites: SiteConfig[] = [];
  // Slots are derived per VPC: each VPC's site range is its own.
  const derivedSlots = new Map<string, Map<string, number>>();
  for (const vpcKey of new Set(file.sites.map((s) => vpcKeyOf(s.cell)))) {
    const entries = file.sites.filter((s) => vpcKeyOf(s.cell) === vpcKey);
    derivedSlots.set(vpcKey, deriveSubnetSlots(entries, layoutOf(vpcKey)));
  }
  file.sites.forEach((entry, i) => {
    const at = (...rest: PropertyKey[]) => ['sites', i, ...rest];
    const firstIndex = siteIndexById.get(entry.id);
    if (firstIndex !== undefined) {
      report(
        at('id'),
        `site id "${entry.id}" is already used by sites[${firstIndex}]; every site needs its own id (it names its stack, database user and tags)`,
      );
    } else {
      siteIndexById.set(entry.id, i);
    }
    entry.domains.forEach((domain, d) => {
      const owner = domainOwner.get(domain);
      if (owner !== undefined) {
        report(
          at('domains', d),
          `domain "${domain}" is already served by ${owner}; a domain can belong to one site only`,
        );
      } else {
        domainOwner.set(domain, `sites[${i}] (${entry.id})`);
      }
    });
    if (declaredCells && !declaredCells.includes(entry.cell)) {
      report(
        at('cell'),
        `cell "${entry.cell}" is not declared under cells (declared: ${declaredCells.join(', ')}); add it there or pick one of those`,
      );
    }
    const vpcKey = vpcKeyOf(entry.cell);
    const site = resolveSite(entry, defaults, layoutOf(vpcKey), derivedSlots.get(vpcKey) ?? new Map(), at, report);
    // A repeated id is already reported; its derived numbers would only echo that.
    if (site && firstIndex === undefined) sites.push(site);
  });

  const cells = resolveCells(file, declaredCells, cellNetworks, cellSize, report);
  checkUniqueNumbers(file, sites, cells, (s) => vpcKeyOf(s.cell), layoutOf, report);
  if (sites.length !== file.sites.length) return undefined;
  const db = { ...DEFAULTS.database, ...file.database };
  const overbooked = connectionBudgetProblem(
    connectionBudget(db.instanceClass, sites.length, db.maxConnectionsPerSite),
  );
  if (overbooked) {
    report(file.database ? ['database'] : [], overbooked);
    return undefined;
  }
  return {
    source,
    environment: file.environment,
    account: file.account,
    region: file.region,
    network: layout,
    containerPort: file.containerPort ?? DEFAULTS.containerPort,
    cellSize,
    cells,
    database: db,
    operators: {
      principals: file.operators.principals,
      email: file.operators.email,
      consoleTimeoutSeconds: file.operators.consoleTimeoutSeconds ?? DEFAULTS.consoleTimeoutSeconds,
    },
    sites,
    needsInternet: sites.some((s) => s.internetEgress),
  };
}

/** The key of the platform VPC among the fleet's VPCs (a cell's own VPC is keyed by the cell id). */
const PLATFORM_VPC = '';

function resolvePlatformLayout(file: FleetFile, report: Report): NetworkLayout {
  const net = { ...DEFAULTS.network, ...file.network };
  const layout = networkLayout(net.cidr, net.maxAzs, net.strictSubnetPrefix, file.network?.availabilityZones);
  if (layout.availabilityZones && layout.availabilityZones.length !== layout.maxAzs) {
    report(
      ['network', 'availabilityZones'],
      `lists ${layout.availabilityZones.length} zones but maxAzs is ${layout.maxAzs}; list exactly ${layout.maxAzs}`,
    );
  }
  if (
    layout.availabilityZones &&
    file.region &&
    layout.availabilityZones.some((az) => !az.startsWith(file.region as string))
  ) {
    report(['network', 'availabilityZones'], `every zone must be in the fleet's region ${file.region}`);
  }
  return layout;
}

/**
 * The layouts of the cells that have a VPC of their own (`cells[].network.cidr`), with the
 * platform's AZs and subnet sizes. Every block is peered with the platform VPC, so none may
 * overlap it or another cell's (docs/network.md, "A VPC per cell").
 */
function resolveCellNetworks(file: FleetFile, platform: NetworkLayout, report: Report): Map<string, NetworkLayout> {
  const layouts = new Map<string, NetworkLayout>();
  const taken: { cidr: string; owner: string }[] = [{ cidr: platform.vpcCidr, owner: 'network.cidr' }];
  file.cells?.forEach((cell, i) => {
    if (!cell.network) return;
    const { cidr } = cell.network;
    const clash = taken.find((t) => cidrsOverlap(t.cidr, cidr));
    if (clash) {
      report(
        ['cells', i, 'network', 'cidr'],
        `${cidr} overlaps ${clash.cidr} (${clash.owner}); a cell's VPC is peered with the platform VPC and needs a block of its own, such as ${suggestFreeBlock(
          taken.map((t) => t.cidr),
          cidr,
        )}`,
      );
      return;
    }
    taken.push({ cidr, owner: `cells[${i}] (${cell.id})` });
    if (!layouts.has(cell.id)) {
      layouts.set(
        cell.id,
        networkLayout(cidr, platform.maxAzs, platform.strictSubnetPrefix, platform.availabilityZones),
      );
    }
  });
  return layouts;
}

/** A block of the same size as `like`, after every taken one, in the same /8. */
function suggestFreeBlock(taken: readonly string[], like: string): string {
  const prefix = Number(like.split('/')[1]);
  const size = 2 ** (32 - prefix);
  let start = ipv4ToInt(like.split('/')[0] as string);
  start -= start % size;
  for (let n = 0; n < 256; n++, start += size) {
    const candidate = `${intToIpv4(start)}/${prefix}`;
    if (!taken.some((t) => cidrsOverlap(t, candidate))) return candidate;
  }
  return 'a free private block';
}

/** Every VPC must place its sites' own subnets; a fleet too big for one VPC is told to add cell VPCs. */
function checkPlacement(
  file: FleetFile,
  platform: NetworkLayout,
  cellNetworks: ReadonlyMap<string, NetworkLayout>,
  vpcKeyOf: (cellId: string) => string,
  report: Report,
): void {
  const inPlatform = file.sites.filter((s) => vpcKeyOf(s.cell) === PLATFORM_VPC).length;
  const placement = placementProblem(platform, inPlatform);
  if (placement) report(file.network ? ['network'] : ['sites'], placement);
  for (const [cellId, layout] of cellNetworks) {
    const count = file.sites.filter((s) => s.cell === cellId).length;
    const problem = placementProblem(layout, count, `cell "${cellId}"`);
    const index = file.cells?.findIndex((c) => c.id === cellId) ?? -1;
    if (problem) report(['cells', index, 'network'], problem);
  }
}

/** The declared cell ids (each reported once if repeated), or undefined when the file declares none. */
function checkDeclaredCells(file: FleetFile, report: Report): string[] | undefined {
  if (!file.cells) return undefined;
  const seen = new Map<string, number>();
  file.cells.forEach((cell, i) => {
    const first = seen.get(cell.id);
    if (first !== undefined) report(['cells', i, 'id'], `cell "${cell.id}" is already declared at cells[${first}]`);
    else seen.set(cell.id, i);
  });
  return file.cells.map((c) => c.id);
}

function resolveCells(
  file: FleetFile,
  declaredCells: readonly string[] | undefined,
  cellNetworks: ReadonlyMap<string, NetworkLayout>,
  cellSize: number,
  report: Report,
): CellConfig[] {
  // Cells: declared ones in order, then any only named by sites, in order of first use.
  const cellIds = [...(declaredCells ?? [])];
  for (const site of file.sites) if (!cellIds.includes(site.cell)) cellIds.push(site.cell);
  const cells: CellConfig[] = cellIds.map((id) => {
    const network = cellNetworks.get(id);
    return {
      id,
      certificateArn: file.cells?.find((c) => c.id === id)?.certificateArn,
      siteIds: file.sites.filter((s) => s.cell === id).map((s) => s.id),
      ...(network ? { network } : {}),
    };
  });
  cells.forEach((cell, i) => {
    if (cell.certificateArn) return;
    const declared = file.cells?.findIndex((c) => c.id === cell.id) ?? -1;
    // A site naming an undeclared cell is reported as such (above); one problem is enough.
    if (declared < 0 && file.cells) return;
    report(
      declared >= 0 ? ['cells', declared] : ['cells'],
      `cell "${cell.id}" needs certificateArn: every cell serves HTTPS, and its listener's default certificate (for clients without SNI or asking for a host no site serves) must be an ACM certificate in ${file.region ?? "the fleet's region"} for a name you control, such as ${cell.id}.sites.example.com${declared >= 0 ? '' : `; declare the cell under cells (it is only named by sites, as cells[${i}] would be)`}`,
    );
  });
  for (const cell of cells) {
    if (cell.siteIds.length > cellSize) {
      const overflowAt = file.sites.map((s, i) => ({ s, i })).filter(({ s }) => s.cell === cell.id)[cellSize];
      report(
        overflowAt ? ['sites', overflowAt.i, 'cell'] : ['cellSize'],
        `cell "${cell.id}" has ${cell.siteIds.length} sites but cellSize is ${cellSize}; move ${cell.siteIds.length - cellSize} site(s) to another cell (add one under cells) or raise cellSize (at most ${LIMITS.maxSitesPerCell})`,
      );
    }
  }
  return cells;
}

/** Subnet slots (per VPC), listener priorities (per cell) and uploads POSIX ids (per fleet) are unique. */
function checkUniqueNumbers(
  file: FleetFile,
  sites: readonly SiteConfig[],
  cells: readonly CellConfig[],
  vpcKeyOf: (s: SiteConfig) => string,
  layoutOf: (vpcKey: string) => NetworkLayout,
  report: Report,
): void {
  const vpcKeys = [...new Set(sites.map(vpcKeyOf))];
  checkUnique(
    file.sites,
    sites,
    (s) => `${vpcKeyOf(s)}/${s.subnetSlot}`,
    'subnetSlot',
    (s) => `subnet slot ${s.subnetSlot} (${s.subnetCidrs.join(', ')})`,
    new Map(vpcKeys.map((k) => [k, new Set(sites.filter((s) => vpcKeyOf(s) === k).map((s) => s.subnetSlot))])),
    vpcKeyOf,
    0,
    (s) => layoutOf(vpcKeyOf(s)).strictSlots - 1,
    report,
  );
  checkUnique(
    file.sites,
    sites,
    (s) => `${s.cell}/${s.listenerPriority}`,
    'listenerPriority',
    (s) => `listener priority ${s.listenerPriority} in cell "${s.cell}"`,
    new Map(cells.map((c) => [c.id, new Set(sites.filter((s) => s.cell === c.id).map((s) => s.listenerPriority))])),
    (s) => s.cell,
    1,
    () => LIMITS.maxListenerPriority,
    report,
  );
  checkUnique(
    file.sites,
    sites,
    (s) => String(s.uploadsPosixId),
    'uploadsPosixId',
    (s) => `uploads POSIX id ${s.uploadsPosixId}`,
    new Map([['', new Set(sites.map((s) => s.uploadsPosixId))]]),
    () => '',
    LIMITS.minPosixId,
    () => LIMITS.maxPosixId,
    report,
  );
}

/**
 * Whether the VPC can place every site's own subnets (docs/network.md, "Address plan"): the
 * site range must hold a slot per site, and the VPC's subnets must stay within the most a VPC
 * can have at all. The default quota of 200 subnets per VPC is adjustable and only warned
 * about (fleet check, siteops doctor); address space is not.
 */
export function placementProblem(layout: NetworkLayout, siteCount: number, holder = 'the fleet'): string | undefined {
  if (siteCount <= layout.strictSlots) return undefined;
  const neededSlots = siteCount;
  const bestPrefix = [24, 25, 26, 27, 28].find(
    (p) => networkLayout(layout.vpcCidr, layout.maxAzs, p).strictSlots >= neededSlots,
  );
  const cellVpcs = `give cells VPCs of their own (cells[].network.cidr, docs/network.md "A VPC per cell")`;
  const fix = bestPrefix
    ? `set network.strictSubnetPrefix to ${bestPrefix} (or longer), or ${cellVpcs}`
    : `no subnet size fits ${neededSlots} sites in ${layout.vpcCidr}: ${cellVpcs}`;
  return `${holder} has ${siteCount} sites but the site range of ${layout.vpcCidr} holds ${layout.strictSlots} blocks of ${layout.maxAzs} /${layout.strictSubnetPrefix} subnets (every site has its own subnets, one per AZ): ${fix}`;
}

/**
 * Subnet slots of the sites that do not name one. Each site's home slot is hashed from its id;
 * sites are placed in order of (home, id), each in the first slot from its home on that no
 * named slot and no site placed before it holds. The result depends only on the set of site
 * ids and named slots, never on their order in the file. Adding a site moves nobody unless
 * its home is on another derived site's probe path and its id sorts first there (then that
 * site's subnets are replaced at its next deploy, a rolling ECS deployment); naming the slot
 * (`subnetSlot`) pins a site for good (docs/network.md, "Address plan").
 */
export function deriveSubnetSlots(
  entries: readonly Pick<SiteEntry, 'id' | 'subnetSlot'>[],
  layout: NetworkLayout,
): Map<string, number> {
  const slots = layout.strictSlots;
  const taken = new Set(entries.flatMap((e) => (e.subnetSlot === undefined ? [] : [e.subnetSlot])));
  const derived = new Map<string, number>();
  const unnamed = entries
    .filter((e) => e.subnetSlot === undefined)
    .map((e) => ({ id: e.id, home: stableSlot(e.id, 'subnet', 0, slots - 1) }))
    .sort((a, b) => a.home - b.home || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  for (const { id, home } of unnamed) {
    if (derived.has(id)) continue;
    let slot = home;
    for (let step = 0; step < slots && taken.has(slot); step++) slot = (home + step + 1) % slots;
    taken.add(slot);
    derived.set(id, slot);
  }
  return derived;
}

function resolveSite(
  entry: SiteEntry,
  defaults: NonNullable<FleetFile['defaults']>,
  layout: NetworkLayout,
  derivedSlots: ReadonlyMap<string, number>,
  at: (...rest: PropertyKey[]) => PropertyKey[],
  report: Report,
): SiteConfig | undefined {
  let ok = true;
  const fail = (path: PropertyKey[], message: string) => {
    ok = false;
    report(path, message);
  };
  const d = DEFAULTS.site;
  const cpu = entry.cpu ?? defaults.cpu ?? d.cpu;
  const memory = entry.memory ?? defaults.memory ?? d.memory;
  if (!isFargateSize(cpu, memory)) {
    const where =
      entry.memory !== undefined ? at('memory') : entry.cpu !== undefined ? at('cpu') : ['defaults', 'memory'];
    fail(where, `cpu ${cpu} with memory ${memory} is not a size Fargate offers: ${describeFargateMemory(cpu)}`);
  }
  const isolation = entry.isolation ?? defaults.isolation ?? d.isolation;
  // Every site has its own subnets (docs/network.md): in the slot the fleet file names, or,
  // for a standard site without one, a slot derived from its id (deriveSubnetSlots). A strict
  // site names its slot: strict sites had their slots before every site had subnets.
  let cidrs: string[] = [];
  let slot = entry.subnetSlot ?? derivedSlots.get(entry.id) ?? 0;
  if (isolation === 'strict' && entry.subnetSlot === undefined) {
    fail(
      at('isolation'),
      `a strict site needs subnetSlot: the block (0..${layout.strictSlots - 1}) of the VPC's site range that holds its own subnets. Pick an unused number; it never changes once deployed`,
    );
  } else if (slot >= layout.strictSlots) {
    fail(
      at('subnetSlot'),
      `subnet slot ${slot} does not fit: the site range of ${layout.vpcCidr} holds slots 0..${layout.strictSlots - 1} with /${layout.strictSubnetPrefix} subnets in ${layout.maxAzs} AZs`,
    );
    slot = 0;
  } else {
    cidrs = strictSubnetCidrs(layout, slot);
  }
  // Room for the service at twice its size during a deployment (maxHealthyPercent 200) and the
  // known-good tasks a restore starts beside the contained ones: three times desiredCount.
  const desired = entry.desiredCount ?? defaults.desiredCount ?? d.desiredCount;
  const room = usableSubnetAddresses(layout.strictSubnetPrefix) * layout.maxAzs;
  if (3 * desired > room) {
    fail(
      entry.desiredCount !== undefined ? at('desiredCount') : ['network', 'strictSubnetPrefix'],
      `desiredCount ${desired} needs ${3 * desired} addresses in the site's own subnets (a deployment doubles it, a restore adds the known-good tasks), but /${layout.strictSubnetPrefix} subnets in ${layout.maxAzs} AZs offer ${room}: lower desiredCount or use a shorter network.strictSubnetPrefix`,
    );
  }
  const repoMatch = ECR_REPOSITORY_PATTERN.exec(entry.image.repository);
  if (!ok || !repoMatch) return undefined;
  const response = { ...d.response, ...defaults.response, ...entry.response };
  const alarms = { ...d.alarms, ...defaults.alarms, ...entry.alarms };
  return {
    id: entry.id,
    cell: entry.cell,
    domains: entry.domains,
    image: {
      repository: entry.image.repository,
      digest: entry.image.digest,
      uri: `${entry.image.repository}@${entry.image.digest}`,
      repositoryAccount: repoMatch[1] as string,
      repositoryRegion: repoMatch[2] as string,
      repositoryName: repoMatch[3] as string,
    },
    cpu,
    memory,
    desiredCount: entry.desiredCount ?? defaults.desiredCount ?? d.desiredCount,
    internetEgress: entry.internetEgress ?? defaults.internetEgress ?? d.internetEgress,
    isolation,
    contact: entry.contact,
    response,
    alarms,
    healthCheckPath: entry.healthCheckPath ?? defaults.healthCheckPath ?? d.healthCheckPath,
    runAsUser: entry.runAsUser ?? defaults.runAsUser ?? d.runAsUser,
    firewall: { ...d.firewall, ...defaults.firewall, ...entry.firewall },
    listenerPriority: entry.listenerPriority ?? stableSlot(entry.id, 'listener', 1, LIMITS.maxListenerPriority),
    uploadsPosixId: entry.uploadsPosixId ?? stableSlot(entry.id, 'posix', LIMITS.minPosixId, LIMITS.maxPosixId),
    ...(entry.certificateArn ? { certificateArn: entry.certificateArn } : {}),
    subnetSlot: slot,
    subnetCidrs: cidrs,
    database: databaseNames(entry.id),
  };
}

/**
 * Reports two sites that share a value that must be unique within a group (cell or fleet),
 * naming whether the value was derived (and so needs setting by hand) and a free value.
 */
function checkUnique(
  entries: readonly SiteEntry[],
  sites: readonly SiteConfig[],
  keyOf: (s: SiteConfig) => string,
  field: 'listenerPriority' | 'uploadsPosixId' | 'subnetSlot',
  describe: (s: SiteConfig) => string,
  takenByGroup: Map<string, Set<number>>,
  groupOf: (s: SiteConfig) => string,
  min: number,
  maxOf: (s: SiteConfig) => number,
  report: Report,
): void {
  const first = new Map<string, SiteConfig>();
  for (const site of sites) {
    const key = keyOf(site);
    const other = first.get(key);
    if (!other) {
      first.set(key, site);
      continue;
    }
    // Blame the site whose value was derived (an explicit value is a decision somebody made).
    const index = entries.findIndex((e) => e.id === site.id);
    const otherIndex = entries.findIndex((e) => e.id === other.id);
    const explicit = entries[index]?.[field] !== undefined;
    const blamed = explicit && entries[otherIndex]?.[field] === undefined ? otherIndex : index;
    const free = firstFree(takenByGroup.get(groupOf(site)) ?? new Set(), min, maxOf(site));
    report(
      ['sites', blamed],
      `${describe(site)} is shared by sites "${other.id}" and "${site.id}"; set ${field}: ${free} on sites[${blamed}] (${entries[blamed]?.id}) and never change it afterwards`,
      field,
    );
  }
}
