import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import type { DrillEvent } from './drill';

/** PutEvents for drills: the synthetic finding goes through the same EventBridge rule path. */
export function eventBridgePutEvents(): (event: DrillEvent) => Promise<void> {
  let client: EventBridgeClient | undefined;
  return async (event) => {
    client ??= new EventBridgeClient({ maxAttempts: 6 });
    const result = await client.send(
      new PutEventsCommand({
        Entries: [
          {
            Source: event.source,
            DetailType: event.detailType,
            Detail: JSON.stringify(event.detail),
            Resources: [...event.resources],
            Time: event.time,
          },
        ],
      }),
    );
    const failed = result.Entries?.find((e) => e.ErrorCode);
    if (result.FailedEntryCount || failed) {
      throw new Error(`EventBridge did not take the drill event: ${failed?.ErrorCode}: ${failed?.ErrorMessage}`);
    }
  };
}
