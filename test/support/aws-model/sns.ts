import type {
  CreateTopicCommandInput,
  CreateTopicCommandOutput,
  ListTopicsCommandInput,
  ListTopicsCommandOutput,
  MessageAttributeValue,
  PublishCommandInput,
  PublishCommandOutput,
} from '@aws-sdk/client-sns';
import { type Handler, type Out, ServiceModel } from './service-model';

/** A message SNS accepted. */
export interface PublishedMessage {
  TopicArn: string;
  MessageId: string;
  Message: string;
  Subject?: string;
  MessageAttributes?: Record<string, MessageAttributeValue>;
  MessageStructure?: string;
  MessageGroupId?: string;
  MessageDeduplicationId?: string;
  /** Virtual time of publication. */
  at: number;
}

interface SnsState {
  topics: Record<string, { TopicArn: string; Name: string }>;
  published: PublishedMessage[];
  sequence: number;
}

/** "Maximum message size: 256 KB", message and attributes together. */
const MAX_MESSAGE_BYTES = 262_144;

/**
 * SNS topics and Publish. Messages are recorded (`model.sns.published()`), not delivered.
 * Publish validates what SNS validates: the topic exists (NotFound), the message is not
 * empty or too long, the subject is at most 100 printable ASCII characters without line
 * breaks, JSON message structure has a `default` entry, FIFO topics need a group id.
 */
export class SnsModel extends ServiceModel<SnsState> {
  readonly service = 'SNS' as const;

  protected initialState(): SnsState {
    return { topics: {}, published: [], sequence: 0 };
  }

  handlers(): Record<string, Handler> {
    return {
      Publish: (i: PublishCommandInput) => this.publish(i),
      CreateTopic: (i: CreateTopicCommandInput) => this.createTopicCommand(i),
      ListTopics: (i: ListTopicsCommandInput) => this.listTopics(i),
    };
  }

  /** Creates a topic (seeding); returns its ARN. */
  createTopic(name: string): string {
    return this.createTopicCommand({ Name: name }).TopicArn as string;
  }

  /** Messages published, optionally to one topic. */
  published(topicArn?: string): PublishedMessage[] {
    return this.state.published
      .filter((m) => topicArn === undefined || m.TopicArn === topicArn)
      .map((m) => structuredClone(m));
  }

  private createTopicCommand(input: CreateTopicCommandInput): Out<CreateTopicCommandOutput> {
    const name = input.Name ?? '';
    if (!/^[A-Za-z0-9_-]{1,256}(\.fifo)?$/.test(name)) this.fail('InvalidParameter', 'Invalid parameter: Topic Name');
    const arn = this.arn('sns', name);
    this.state.topics[arn] ??= { TopicArn: arn, Name: name };
    return { TopicArn: arn };
  }

  private listTopics(_input: ListTopicsCommandInput): Out<ListTopicsCommandOutput> {
    return { Topics: Object.keys(this.state.topics).map((TopicArn) => ({ TopicArn })) };
  }

  private invalid(what: string): never {
    return this.fail('InvalidParameter', `Invalid parameter: ${what}`);
  }

  private publish(input: PublishCommandInput): Out<PublishCommandOutput> {
    const arn = input.TopicArn ?? input.TargetArn;
    if (!arn) {
      return input.PhoneNumber
        ? this.fail('InvalidParameter', 'Invalid parameter: PhoneNumber (publishing SMS is not modelled)')
        : this.invalid('TopicArn or TargetArn Reason: no value for required parameter');
    }
    const topic = this.state.topics[arn];
    if (!topic) this.fail('NotFound', 'Topic does not exist');
    const message = input.Message ?? '';
    if (!message) this.invalid('Empty message');
    if (input.Subject !== undefined) {
      const s = input.Subject;
      if (!s || s.length > 100 || /[\r\n]/.test(s) || !/^[\x20-\x7e]+$/.test(s) || !/^[A-Za-z0-9\p{P}]/u.test(s))
        this.invalid('Subject');
    }
    let size = Buffer.byteLength(message);
    for (const [name, attr] of Object.entries(input.MessageAttributes ?? {})) {
      if (!attr.DataType) {
        this.fail(
          'InvalidParameterValue',
          `The message attribute '${name}' must contain non-empty message attribute type.`,
        );
      }
      if (attr.StringValue === undefined && attr.BinaryValue === undefined) {
        this.fail(
          'InvalidParameterValue',
          `The message attribute '${name}' must contain non-empty message attribute value for message attribute type '${attr.DataType}'.`,
        );
      }
      if (attr.DataType.startsWith('Number') && Number.isNaN(Number(attr.StringValue))) {
        this.fail('InvalidParameterValue', `Could not cast message attribute '${name}' value to number.`);
      }
      size +=
        Buffer.byteLength(name) +
        Buffer.byteLength(attr.DataType) +
        Buffer.byteLength(attr.StringValue ?? '') +
        (attr.BinaryValue?.length ?? 0);
    }
    if (size > MAX_MESSAGE_BYTES) this.invalid('Message too long');
    if (input.MessageStructure !== undefined) {
      if (input.MessageStructure !== 'json') this.invalid('MessageStructure');
      let parsed: unknown;
      try {
        parsed = JSON.parse(message);
      } catch {
        return this.invalid('Message Structure - JSON message body failed to parse');
      }
      if (typeof parsed !== 'object' || parsed === null || !('default' in parsed)) {
        this.invalid('Message Structure - No default entry in JSON message body');
      }
    }
    const fifo = topic.Name.endsWith('.fifo');
    if (fifo && !input.MessageGroupId) this.invalid('The MessageGroupId parameter is required for FIFO topics');
    if (!fifo && input.MessageDeduplicationId) {
      this.invalid('The request includes MessageDeduplicationId parameter that is not valid for this topic type');
    }
    const messageId = this.model.ids.uuid();
    this.state.published.push({
      TopicArn: arn,
      MessageId: messageId,
      Message: message,
      Subject: input.Subject,
      MessageAttributes: input.MessageAttributes,
      MessageStructure: input.MessageStructure,
      MessageGroupId: input.MessageGroupId,
      MessageDeduplicationId: input.MessageDeduplicationId,
      at: this.now,
    });
    return {
      MessageId: messageId,
      SequenceNumber: fifo ? String(10_000_000_000_000_000_000n + BigInt(++this.state.sequence)) : undefined,
    };
  }
}
