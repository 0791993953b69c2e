import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import type { DrillEvent } from './drill';

/**
 * PutEvents for drills, on the drill event bus only: "The name or ARN of the event bus to receive
 * the event. Only the rules that are associated with this event bus are used to match the event. If
 * you omit this, the default event bus is used" (EventBridge API reference, PutEventsRequestEntry
 * `EventBusName`). The drill rule lives on that bus, so the finding reaches containment through it
 * and through nothing on the default bus.
 */
export function eventBridgePutEvents(eventBusName: string): (event: DrillEvent) => Promise<void> {
  let client: EventBridgeClient | undefined;
  return async (event) => {
    client ??= new EventBridgeClient({ maxAttempts: 6 });
    const result = await client.send(
      new PutEventsCommand({
        Entries: [
          {
            EventBusName: eventBusName,
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
