import { z } from 'zod';
import { CELL_ID_PATTERN, DIGEST_PATTERN, ENV_NAME_PATTERN, SITE_ID_PATTERN } from '../../contracts/ids';
import { FARGATE_CPU_VALUES } from './fargate';

export { CELL_ID_PATTERN, DIGEST_PATTERN, ENV_NAME_PATTERN, SITE_ID_PATTERN };

/**
 * The fleet file's shape (config/<env>.yaml). Every object is strict: an unknown key is an
 * error, because a misspelt `isolaton: strict` must never silently give a site the default.
 * Cross-field rules (duplicates, Fargate sizes, cell capacity, slots) live in load-fleet.ts.
 */

/** An image tag as the OCI distribution spec defines it. */
export const TAG_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
export const ECR_REPOSITORY_PATTERN =
  /^(\d{12})\.dkr\.ecr\.([a-z]{2}(?:-[a-z]+)+-\d)\.amazonaws\.com(?:\.cn)?\/([a-z0-9]+(?:[._-][a-z0-9]+)*(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*)$/;
const HOSTNAME_PATTERN =
  /^(?:\*\.)?(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
const IAM_PRINCIPAL_PATTERN = /^arn:aws(?:-cn|-us-gov)?:iam::\d{12}:(?:root|user\/[\w+=,.@/-]+|role\/[\w+=,.@/-]+)$/;
const CIDR_PATTERN = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;

/** Hard limits that come from AWS, in one place so errors can quote them. */
export const LIMITS = {
  /** Application Load Balancer: 100 rules per load balancer (not raisable); keep room for defaults. */
  maxSitesPerCell: 90,
  /** ALB condition values per rule. */
  maxDomainsPerSite: 5,
  /** Listener rule priorities are 1..50000. */
  maxListenerPriority: 50000,
  /** POSIX ids below this are left to the image's own users. */
  minPosixId: 10000,
  maxPosixId: 2147483647,
} as const;

const acmCertificateArn = z
  .string()
  .regex(/^arn:aws(?:-cn|-us-gov)?:acm:[a-z0-9-]+:\d{12}:certificate\/[0-9a-f-]{36}$/, {
    error: 'must be an ACM certificate ARN',
  });

const email = z.email({ error: 'must be an email address (for example ops@example.com)' });

const digest = z.string().superRefine((value, ctx) => {
  if (DIGEST_PATTERN.test(value)) return;
  if (/^sha256:/i.test(value)) {
    const hex = value.slice('sha256:'.length);
    ctx.addIssue({
      code: 'custom',
      message: `"${value}" is not a digest: a digest is "sha256:" followed by 64 lowercase hex characters (this one has ${hex.length}${/[^0-9a-f]/.test(hex) ? ' and characters that are not lowercase hex' : ''}). Copy it from \`aws ecr describe-images\` or \`docker buildx imagetools inspect\`.`,
    });
  } else if (TAG_PATTERN.test(value)) {
    ctx.addIssue({
      code: 'custom',
      message: `"${value}" is an image tag, not a digest. Tags can be moved; Bulkhead runs only images pinned by digest. Find the digest with \`aws ecr describe-images --repository-name <repo> --image-ids imageTag=${value} --query 'imageDetails[0].imageDigest'\` and write it here as sha256:<64 hex>.`,
    });
  } else {
    ctx.addIssue({
      code: 'custom',
      message: `"${value}" is not a digest: write "sha256:" followed by 64 lowercase hex characters.`,
    });
  }
});

const repository = z.string().superRefine((value, ctx) => {
  if (ECR_REPOSITORY_PATTERN.test(value)) return;
  const tagged = /^(.*\/[^/:@]+)(?::([^/@]+)|@(.+))$/.exec(value);
  if (tagged) {
    ctx.addIssue({
      code: 'custom',
      message: `"${value}" carries a ${tagged[2] ? `tag (":${tagged[2]}")` : 'digest'}; write only the repository here (${tagged[1]}) and put the digest in image.digest.`,
    });
    return;
  }
  ctx.addIssue({
    code: 'custom',
    message: `"${value}" is not an Amazon ECR repository URI. Bulkhead pulls site images only from ECR repositories (immutable tags, scan on push): <account>.dkr.ecr.<region>.amazonaws.com/<name>.`,
  });
});

const responsePolicy = z.enum(['contain', 'shed', 'notify'], {
  error:
    'must be one of contain (isolate the site), shed (only take it off the load balancer) or notify (only tell people)',
});

const responseSchema = z.strictObject({
  /** What an incident does to the site. */
  policy: responsePolicy.optional(),
  /** Findings at or above this GuardDuty severity (1.0 to 10.0) trigger the policy. */
  severityThreshold: z
    .number({ error: 'must be a number from 1 to 10 (GuardDuty severity)' })
    .min(1, { error: 'must be at least 1 (GuardDuty severities run from 1.0 to 10.0)' })
    .max(10, { error: 'must be at most 10 (GuardDuty severities run from 1.0 to 10.0)' })
    .optional(),
  /** How long a contained task is kept running for forensics before it is stopped. */
  forensicHoldMinutes: z.int().min(0).max(1440).optional(),
  /** Restore on the last known-good digest without waiting for an operator. */
  autoRestore: z.boolean().optional(),
  /** Without autoRestore: how long the workflow waits for an operator's decision; the site stays contained after. */
  approvalTimeoutHours: z.int().min(1).max(168).optional(),
});

const alarmsSchema = z.strictObject({
  /** Target 5xx responses as a percentage of requests, over 5 minutes. */
  errorRatePercent: z.number().gt(0).max(100).optional(),
  /** Bytes a site's tasks may send per minute before the egress alarm fires. */
  egressBytesPerMinute: z.int().positive().optional(),
  /**
   * Connections the site's tasks try and are refused (REJECT in its subnets' flow logs) in
   * five minutes before the rejected-connections alarm fires (default 20; docs/network.md).
   */
  rejectedConnectionsPerFiveMinutes: z.int().positive().optional(),
});

/** A non-root numeric `uid` or `uid:gid` (no 0, no leading zeros, within 2^31 - 1). */
export const RUN_AS_USER_PATTERN =
  /^(?!0)(?:[1-9]\d{0,8}|1\d{9}|20\d{8}|21[0-3]\d{7}|214[0-6]\d{6}|2147[0-3]\d{5}|21474[0-7]\d{4}|214748[0-2]\d{3}|2147483[0-5]\d{2}|21474836[0-3]\d|214748364[0-7])(?::(?:[1-9]\d{0,8}|1\d{9}|20\d{8}|21[0-3]\d{7}|214[0-6]\d{6}|2147[0-3]\d{5}|21474[0-7]\d{4}|214748[0-2]\d{3}|2147483[0-5]\d{2}|21474836[0-3]\d|214748364[0-7]))?$/;

const siteSettings = {
  cpu: z
    .int({ error: 'must be a whole number of CPU units' })
    .refine((v) => FARGATE_CPU_VALUES.includes(v), {
      error: `is not a Fargate CPU value; use one of ${FARGATE_CPU_VALUES.join(', ')}`,
    })
    .optional(),
  memory: z.int({ error: 'must be a whole number of MiB' }).positive().optional(),
  desiredCount: z.int().min(0).max(50).optional(),
  /** May the site open HTTPS connections to the internet (plugin updates, payment APIs)? */
  internetEgress: z.boolean().optional(),
  /** `strict` also gives the site its own subnets and a network ACL that quarantine swaps. */
  isolation: z.enum(['standard', 'strict'], { error: 'must be standard or strict' }).optional(),
  response: responseSchema.optional(),
  alarms: alarmsSchema.optional(),
  healthCheckPath: z
    .string()
    .regex(/^\/[A-Za-z0-9._~!$&'()*+,;=:@/%-]*$/, { error: 'must be a URL path starting with /' })
    .optional(),
  /** AWS WAF on the site's cell load balancer, for this site's host names (infra/platform/cell-firewall.ts). */
  firewall: z
    .strictObject({
      /** `count`: this site's WAF rules only count what they would block (to tune a new site); default `block`. */
      mode: z.enum(['block', 'count'], { error: 'must be block or count' }).optional(),
      /** Requests one IP address may send this site in 5 minutes before WAF blocks it (AWS WAF takes 10 or more). */
      requestsPerFiveMinutes: z.int().min(10).max(2_000_000_000).optional(),
    })
    .optional(),
  /**
   * The user the site's container runs as: a numeric uid, or uid:gid, never 0 (root). Numbers,
   * not names: a name means whatever the image's /etc/passwd says, which could be root.
   * Default 33:33 (www-data in the Debian-based WordPress images).
   */
  runAsUser: z
    .string({ error: 'must be a quoted uid or uid:gid such as "33:33"' })
    .regex(RUN_AS_USER_PATTERN, {
      error:
        'must be a numeric uid or uid:gid other than 0 (root), such as "33:33" (www-data); names are refused because an image decides what a name means',
    })
    .optional(),
};

export const siteSchema = z.strictObject({
  id: z.string({ error: 'is required: a short lowercase name such as acme-shop' }).regex(SITE_ID_PATTERN, {
    error:
      'must be 2 to 24 characters of lowercase letters, digits and single hyphens, starting with a letter and not ending with a hyphen (it becomes a DNS label, a stack name and a database user)',
  }),
  cell: z
    .string({ error: 'is required: the cell (load balancer and cluster) this site runs in' })
    .regex(CELL_ID_PATTERN, {
      error: 'must be 1 to 10 lowercase letters or digits, starting with a letter',
    }),
  domains: z
    .array(
      z.string().regex(HOSTNAME_PATTERN, {
        error: 'must be a lowercase host name such as www.example.com (a leading *. is allowed)',
      }),
    )
    .min(1, { error: 'needs at least one domain' })
    .max(LIMITS.maxDomainsPerSite, {
      error: `can hold at most ${LIMITS.maxDomainsPerSite} domains (an ALB rule condition takes ${LIMITS.maxDomainsPerSite} values); split the site or use a wildcard`,
    }),
  image: z.strictObject({ repository, digest }, { error: 'needs repository and digest' }),
  /** Who hears about this site's incidents (required: every client has somebody to tell). */
  contact: z.email({
    error: (issue) =>
      issue.input === undefined
        ? "is required: the email address that hears about this site's incidents"
        : 'must be an email address (for example webmaster@client.example)',
  }),
  ...siteSettings,
  /** An ACM certificate covering every domain; without one the site's stack requests one (DNS validation). */
  certificateArn: acmCertificateArn.optional(),
  /** ALB listener rule priority; derived from the id when absent. */
  listenerPriority: z.int().min(1).max(LIMITS.maxListenerPriority).optional(),
  /** POSIX uid/gid of the uploads access point; derived from the id when absent. Never change it. */
  uploadsPosixId: z.int().min(LIMITS.minPosixId).max(LIMITS.maxPosixId).optional(),
  /** Strict sites: which block of the VPC's strict range holds the site's own subnets. */
  subnetSlot: z.int().min(0).optional(),
});

const cidr = z.string().superRefine((value, ctx) => {
  const m = CIDR_PATTERN.exec(value);
  const octets = m ? m.slice(1, 5).map(Number) : [];
  const prefix = m ? Number(m[5]) : -1;
  if (!m || octets.some((o) => o > 255) || prefix < 16 || prefix > 20) {
    ctx.addIssue({
      code: 'custom',
      message: `"${value}" must be an IPv4 CIDR block with a prefix from /16 to /20, such as 10.40.0.0/16`,
    });
  }
});

const cellSchema = z.strictObject({
  id: z.string().regex(CELL_ID_PATTERN, {
    error: 'must be 1 to 10 lowercase letters or digits, starting with a letter',
  }),
  /**
   * The default certificate of the cell's HTTPS listener (clients without SNI, or asking for a
   * host no site serves, get it and a 404). Required: every cell serves HTTPS.
   */
  certificateArn: acmCertificateArn.optional(),
  /**
   * A VPC of the cell's own (docs/network.md, "A VPC per cell"): its load balancer, cluster,
   * endpoints and its sites' own subnets live there; the database and uploads stay in the
   * platform VPC, reached by peering. Without it the cell runs in the platform VPC.
   */
  network: z
    .strictObject({
      /** The cell VPC's block: /16 to /20, overlapping neither `network.cidr` nor another cell's. */
      cidr: z.string({ error: "is required: the IPv4 block of the cell's own VPC, such as 10.41.0.0/16" }).pipe(cidr),
    })
    .optional(),
});

export const fleetSchema = z.strictObject({
  /** Environment name: part of every stack name and of the `bulkhead:env` tag. */
  environment: z.string({ error: 'is required, such as prod or staging' }).regex(ENV_NAME_PATTERN, {
    error: 'must be 2 to 16 lowercase letters, digits and single hyphens, starting with a letter',
  }),
  account: z
    .string()
    .regex(/^\d{12}$/, { error: 'must be a 12-digit AWS account id' })
    .optional(),
  region: z
    .string()
    .regex(/^[a-z]{2}(?:-[a-z]+)+-\d$/, { error: 'must be an AWS region such as eu-west-1' })
    .optional(),
  network: z
    .strictObject({
      cidr: cidr.optional(),
      maxAzs: z.int().min(2).max(3).optional(),
      /** Pin the AZ names (as many as maxAzs); by default the region's first ones at deploy time. */
      availabilityZones: z
        .array(
          z.string().regex(/^[a-z]{2}(?:-[a-z]+)+-\d[a-z]$/, {
            error: 'must be an availability zone name such as eu-west-1a',
          }),
        )
        .optional(),
      /** Prefix length of each strict site's own subnets (one per AZ). */
      strictSubnetPrefix: z.int().min(24).max(28).optional(),
    })
    .optional(),
  /** The port every site's container listens on (non-root images cannot bind 80). */
  containerPort: z.int().min(1024).max(65535).optional(),
  /** Most sites a cell (one load balancer, one ECS cluster) takes. */
  cellSize: z
    .int()
    .min(1)
    .max(LIMITS.maxSitesPerCell, {
      error: `must be at most ${LIMITS.maxSitesPerCell}: an Application Load Balancer holds at most 100 rules and target groups, and that is not raisable`,
    })
    .optional(),
  cells: z.array(cellSchema).optional(),
  database: z
    .strictObject({
      instanceClass: z
        .string()
        .regex(/^db\.[a-z0-9]+\.[a-z0-9]+$/, {
          error: 'must be an RDS instance class such as db.r6g.large',
        })
        .optional(),
      readers: z.int().min(0).max(15).optional(),
      engineVersion: z
        .string()
        .regex(/^8\.0\.mysql_aurora\.3\.\d{2}\.\d+$/, {
          error: 'must be an Aurora MySQL 3 version such as 8.0.mysql_aurora.3.08.2',
        })
        .optional(),
      maxConnectionsPerSite: z.int().min(1).max(1000).optional(),
      backupRetentionDays: z.int().min(1).max(35).optional(),
    })
    .optional(),
  operators: z.strictObject(
    {
      /** IAM principals allowed to assume the operator role (with MFA). */
      principals: z
        .array(
          z.string().regex(IAM_PRINCIPAL_PATTERN, {
            error: 'must be an IAM user, role or account-root ARN such as arn:aws:iam::111122223333:role/PlatformTeam',
          }),
        )
        .min(1, { error: 'needs at least one principal: somebody must be able to run siteops' }),
      /** Operators' notification address (ops SNS topic). */
      email: email.optional(),
      /**
       * How long the console's API waits for an answer (its integration timeout). API Gateway's
       * default maximum is 29 s; up to 300 s for a Regional REST API once the account's "Maximum
       * integration timeout in milliseconds" quota is raised (API Gateway Developer Guide, quotas).
       */
      consoleTimeoutSeconds: z.int().min(5).max(300).optional(),
    },
    { error: 'is required: operators.principals lists who may run siteops' },
  ),
  /** Settings every site gets unless it says otherwise. */
  defaults: z.strictObject(siteSettings).optional(),
  sites: z.array(siteSchema).min(1, { error: 'needs at least one site' }),
});

export type FleetFile = z.infer<typeof fleetSchema>;
export type SiteEntry = z.infer<typeof siteSchema>;
export type ResponsePolicy = z.infer<typeof responsePolicy>;
