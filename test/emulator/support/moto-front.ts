import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DescribeSecurityGroupsCommand, EC2Client, type IpPermission } from '@aws-sdk/client-ec2';

/**
 * A pass-through in front of moto's EC2 API that corrects one documented moto gap the
 * response plane cannot work around (test/emulator/README.md, known gaps):
 *
 * RevokeSecurityGroupIngress/Egress by rule properties, EC2 API reference: "If the security
 * group rule has a description, you do not need to specify the description to revoke the
 * rule." moto 5.2 compares a group pair with its description, so revoking a described
 * group-referencing rule without the description fails with InvalidPermission.NotFound. The
 * front reads the group and adds each stored description to the request before moto sees it;
 * nothing else is changed, and every other request passes through untouched. The model
 * (test/support/aws-model) revokes without descriptions as AWS does, and the conformance test
 * (test/emulator/fidelity.test.ts) records the disagreement.
 */

export interface MotoFront {
  /** The endpoint to give functions as AWS_ENDPOINT_URL_EC2. */
  readonly endpoint: string;
  /** How many revoke requests the front completed with stored descriptions. */
  readonly corrected: () => number;
  close(): Promise<void>;
}

const REVOKE = /^RevokeSecurityGroup(Ingress|Egress)$/;
const GROUP_PAIR = /^IpPermissions\.(\d+)\.Groups\.(\d+)\.GroupId$/;

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function accessKeyOf(req: IncomingMessage): string | undefined {
  return /Credential=([^/]+)\//.exec(req.headers.authorization ?? '')?.[1];
}

/** Adds the stored description to every described group pair the request revokes without one. */
async function withStoredDescriptions(
  moto: string,
  region: string,
  accessKeyId: string,
  params: URLSearchParams,
): Promise<number> {
  const direction = REVOKE.exec(params.get('Action') ?? '')?.[1];
  const groupId = params.get('GroupId');
  if (!direction || !groupId) return 0;
  const pairs = [...params.keys()]
    .map((k) => GROUP_PAIR.exec(k))
    .filter((m): m is RegExpExecArray => m !== null)
    .filter((m) => !params.has(`IpPermissions.${m[1]}.Groups.${m[2]}.Description`));
  if (pairs.length === 0) return 0;
  const ec2 = new EC2Client({ endpoint: moto, region, credentials: { accessKeyId, secretAccessKey: 'unused' } });
  const group = (await ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [groupId] }))).SecurityGroups?.[0];
  const stored: IpPermission[] = (direction === 'Ingress' ? group?.IpPermissions : group?.IpPermissionsEgress) ?? [];
  let added = 0;
  for (const [, p, g] of pairs) {
    const protocol = params.get(`IpPermissions.${p}.IpProtocol`);
    const from = params.get(`IpPermissions.${p}.FromPort`);
    const to = params.get(`IpPermissions.${p}.ToPort`);
    const peer = params.get(`IpPermissions.${p}.Groups.${g}.GroupId`);
    const match = stored
      .filter(
        (s) =>
          s.IpProtocol === protocol && (protocol === '-1' || (String(s.FromPort) === from && String(s.ToPort) === to)),
      )
      .flatMap((s) => s.UserIdGroupPairs ?? [])
      .find((pair) => pair.GroupId === peer && pair.Description !== undefined);
    if (match?.Description !== undefined) {
      params.set(`IpPermissions.${p}.Groups.${g}.Description`, match.Description);
      added++;
    }
  }
  return added;
}

export async function startMotoFront(moto: string, region: string): Promise<MotoFront> {
  const target = new URL(moto);
  let corrected = 0;
  const forward = (req: IncomingMessage, res: ServerResponse, body: Buffer) => {
    const headers = { ...req.headers, host: target.host, 'content-length': String(body.length) };
    const upstream = request(
      { hostname: target.hostname, port: target.port, method: req.method, path: req.url, headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', (error) => {
      res.writeHead(502);
      res.end(String(error));
    });
    upstream.end(body);
  };
  const server: Server = createServer((req, res) => {
    void (async () => {
      let body = await readBody(req);
      const type = req.headers['content-type'] ?? '';
      const accessKeyId = accessKeyOf(req);
      if (req.method === 'POST' && type.startsWith('application/x-www-form-urlencoded') && accessKeyId) {
        const params = new URLSearchParams(body.toString('utf8'));
        const added = await withStoredDescriptions(moto, region, accessKeyId, params);
        if (added > 0) {
          corrected++;
          body = Buffer.from(params.toString(), 'utf8');
        }
      }
      forward(req, res, body);
    })().catch((error: unknown) => {
      res.writeHead(500);
      res.end(`moto front: ${(error as Error).message}`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    corrected: () => corrected,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
