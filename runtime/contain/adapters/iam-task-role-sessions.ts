import { type IAMClient, PutRolePolicyCommand } from '@aws-sdk/client-iam';
import { SESSION_REVOCATION_POLICY, type TaskRoleSessionsPort } from '../ports';

/** The task role's sessions through IAM: an inline deny of the sessions issued before a time. */
export class IamTaskRoleSessions implements TaskRoleSessionsPort {
  constructor(private readonly iam: IAMClient) {}

  async revokeIssuedBefore(roleName: string, issuedBefore: string): Promise<void> {
    // IAM User Guide, "Revoke IAM role temporary security credentials": the deny "applies
    // the restrictions only if the user assumed the role before the point in time when you
    // revoke the permissions. If the user assumes the role after you revoked the
    // permissions, then the deny policy does not apply to that user." ECS keeps handing
    // the task fresh role credentials through its credential endpoint, so those are not
    // denied; the contained task is held by the network quarantine, not by this deny.
    await this.iam.send(
      new PutRolePolicyCommand({
        RoleName: roleName,
        PolicyName: SESSION_REVOCATION_POLICY,
        PolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [
            {
              Sid: 'BulkheadQuarantineDenyOlderSessions',
              Effect: 'Deny',
              Action: '*',
              Resource: '*',
              Condition: { DateLessThan: { 'aws:TokenIssueTime': issuedBefore } },
            },
          ],
        }),
      }),
    );
  }
}
